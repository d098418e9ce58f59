"""Where notifications may go: not to this network's own services (SSRF).

Webhook URLs are set by account admins, so a URL could aim the server at an internal service
(a cloud metadata endpoint, a database's HTTP port). Before each send the host is resolved
and every address it resolves to must be public, unless the operator allows private
destinations (``TOKENRY_WEBHOOK_ALLOW_PRIVATE=true``, for receivers inside the network).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class DestinationRefused(Exception):
    pass


def check_destination(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("not an http(s) URL")
    if allow_private:
        return
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        raise DestinationRefused(f"cannot resolve {parts.hostname}") from None
    for address in resolved:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise DestinationRefused(
                f"{parts.hostname} resolves to a non-public address; set "
                "TOKENRY_WEBHOOK_ALLOW_PRIVATE=true to allow receivers inside the network")
