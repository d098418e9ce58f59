"""Logging, configured once at start: human lines or JSON, a request id on every line, and no
credential that travels in a URL path (delivery links, calendar feeds) in any line.

``tokenry serve`` hands :func:`logging_config` to uvicorn, so its access and error lines share
the format; other commands call :func:`configure_logging`. The redaction runs on the finished
line, so it also covers tracebacks and anything a library logs.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from tokenry.config import Settings

request_id: ContextVar[str] = ContextVar("tokenry_request_id", default="-")
_SECRET_PATHS = (
    (re.compile(r"/calendar/[^/?\s\"']+\.ics"), "/calendar/[redacted].ics"),
    (re.compile(r"/deliveries/[^/?\s\"']+"), "/deliveries/[redacted]"),
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (and error)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(), "logger": record.name,
            "request_id": getattr(record, "request_id", request_id.get()),
            "message": record.getMessage()}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(line, default=str))


def logging_config(settings: Settings) -> dict[str, Any]:
    level = settings.log_level.upper()
    formatter = "json" if settings.log_format == "json" else "text"
    handler = {"class": "logging.StreamHandler", "formatter": formatter,
               "filters": ["request_id"], "stream": "ext://sys.stderr"}
    loggers = {name: {"handlers": ["console"], "level": level, "propagate": False}
               for name in ("tokenry", "uvicorn", "uvicorn.error", "uvicorn.access")}
    return {
        "version": 1, "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"text": {"()": TextFormatter}, "json": {"()": JsonFormatter}},
        "handlers": {"console": handler},
        "loggers": loggers,
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
