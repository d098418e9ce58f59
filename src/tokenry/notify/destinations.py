"""Where notifications may go: not to this network's own services (SSRF).

Webhook URLs are set by account admins, so a URL could aim the server at an internal service
(a cloud metadata endpoint, a database's HTTP port). The host is resolved once, every address
it resolves to must be public, and the request then connects to the address that was checked
(the Host header and the TLS name stay the original host), so a DNS answer that changes
between the check and the connection (rebinding) cannot redirect it. URLs are checked when an
admin saves them and again before each send. Operators with receivers inside the network
allow them with ``TOKENRY_WEBHOOK_ALLOW_PRIVATE=true``.

Python's ``ipaddress.is_global`` misses several special-purpose ranges (NAT64, 6to4, IETF
protocol assignments, AS112, documentation prefixes ...), so the IANA special-purpose
registries are listed here as well.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SPECIAL_PURPOSE = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
    "2001::/23", "2001:db8::/32", "2002::/16", "2620:4f:8000::/48", "3fff::/20",
    "5f00::/16", "fc00::/7", "fe80::/10", "ff00::/8",
))


class DestinationRefused(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked URL and the address to connect to (None: connect by name, as allowed)."""

    url: str
    host: str
    address: str | None

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        if self.address is None:
            return self.url
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return SplitResult(parts.scheme, netloc, parts.path, parts.query, "").geturl()

    def host_header(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rpartition("@")[2]


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast and not any(
        address in network for network in SPECIAL_PURPOSE)


def check_destination(url: str, *, allow_private: bool) -> Destination:
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise DestinationRefused("not a valid URL (bad port)") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRefused("not an http(s) URL")
    if allow_private:
        return Destination(url, host, None)
    try:
        resolved = [info[4][0] for info in socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError):
        raise DestinationRefused(f"cannot resolve {host}") from None
    addresses = [ipaddress.ip_address(str(a).split("%", 1)[0]) for a in resolved]
    if not addresses or not all(is_public(a) for a in addresses):
        raise DestinationRefused(
            f"{host} resolves to a non-public address; set TOKENRY_WEBHOOK_ALLOW_PRIVATE=true "
            "to allow receivers inside the network")
    return Destination(url, host, str(addresses[0]))
