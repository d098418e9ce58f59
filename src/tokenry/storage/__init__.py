"""Persistence: SQLAlchemy 2 models, the engine, small query functions and migrations."""
