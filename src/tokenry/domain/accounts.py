"""Which account a request is for, from its Host header."""

from __future__ import annotations


def subdomain_from_host(host: str | None, base_domain: str, default: str) -> str:
    """``acme.<base domain>`` selects account ``acme``; any other host the default account."""
    if not host:
        return default
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip().lower().rstrip(".")
    suffix = "." + base_domain.lower()
    if name.endswith(suffix):
        label = name[: -len(suffix)]
        if label and "." not in label:
            return label
    return default
