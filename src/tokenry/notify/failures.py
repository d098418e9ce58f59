"""The one failure a sender raises: a short reason that names no secret, URL path or body."""

from __future__ import annotations

REASON_LIMIT = 500  # the width of notifications.last_error


class DeliveryFailed(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason[:REASON_LIMIT]
        super().__init__(self.reason)
