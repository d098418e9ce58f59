"""Scheduled jobs: idempotent, safe to rerun, run by the server or by `tokenry jobs run`."""
