"""Use cases. Each loads, locks, checks, mutates, audits and commits in one transaction.

Every front end (HTTP, CLI, scheduler) calls these functions; none re-implements a rule.
"""
