"""The HTTP API (FastAPI). Thin: parse, call an operation, present."""
