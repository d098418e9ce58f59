"""Keep credentials that travel in a URL path out of the access log.

A delivery link (``/deliveries/{secret}``) and a calendar feed (``/calendar/{secret}.ics``)
are credentials by design, and uvicorn's access log prints every path.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SECRET_PATHS = (
    (re.compile(r"/calendar/[^/?\s\"]+\.ics"), "/calendar/[redacted].ics"),
    (re.compile(r"/deliveries/[^/?\s\"]+"), "/deliveries/[redacted]"),
)


def redact(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for pattern, replacement in _SECRET_PATHS:
        value = pattern.sub(replacement, value)
    return value


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
