"""Keep credentials that travel in a URL path out of the access log.

A delivery link (``/deliveries/{secret}``) and a calendar feed (``/calendar/{secret}.ics``)
are credentials by design, and uvicorn's access log prints every path. tokenry's own logging
configuration (``tokenry.logs``) redacts every finished line; this filter also protects an
access log that someone else configured (tokenry embedded in another server).
"""

from __future__ import annotations

import logging
from typing import Any

from tokenry import logs


def redact(value: Any) -> Any:
    return logs.redact(value) if isinstance(value, str) else value


class RedactPathSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) for arg in record.args)
        record.msg = redact(record.msg)
        return True


ACCESS_LOG_FILTER = RedactPathSecrets()


def protect_access_log() -> None:
    """Idempotent: the one shared filter is added at most once."""
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)
