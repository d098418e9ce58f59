"""Slack: the shared channel's incoming webhook, and direct messages through the Web API.

A direct message carries a delivery link to its holder alone, the step teams otherwise do by
hand: ``users.lookupByEmail`` finds the holder's Slack user, then ``chat.postMessage`` sends
to that user (a bot token with the ``users:read.email`` and ``chat:write`` scopes).

Slack reads ``<...>`` as links and mentions (``<!channel>``, ``<http://x|disguised>``), so every
text is escaped as Slack asks: ``&``, ``<`` and ``>`` become entities.
"""

from __future__ import annotations

from typing import Any

import httpx

from tokenry.notify.failures import DeliveryFailed


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def direct_message(client: httpx.Client, api_url: str, bot_token: str, email: str,
                   text: str) -> None:
    if not bot_token:
        raise DeliveryFailed("the account has no Slack bot token (slack_bot_token)")
    headers = {"Authorization": f"Bearer {bot_token}"}
    found = _call(client, f"{api_url}/users.lookupByEmail", headers, data={"email": email})
    user = found.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str) or not user_id:
        raise DeliveryFailed("Slack users.lookupByEmail answered without a user id")
    _call(client, f"{api_url}/chat.postMessage", headers,
          json={"channel": user_id, "text": escape(text)})


def _call(client: httpx.Client, url: str, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    method = url.rsplit("/", 1)[-1]
    try:
        response = client.post(url, headers=headers, **body)
    except httpx.HTTPError as error:
        raise DeliveryFailed(f"{type(error).__name__} calling Slack {method}") from None
    if response.status_code == 429:
        raise DeliveryFailed(f"Slack {method} rate-limited us (retry after "
                             f"{response.headers.get('Retry-After', '?')} s)")
    if not response.is_success:
        raise DeliveryFailed(f"HTTP {response.status_code} from Slack {method}")
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryFailed(f"Slack {method} answered with something other than JSON") from None
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        reason = answer.get("error") if isinstance(answer, dict) else None
        raise DeliveryFailed(f"Slack {method} refused: {str(reason or 'unknown error')[:80]}")
    return answer
