"""Per-account settings: their names, types, defaults and validation, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from tokenry.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class AccountSettings:
    token_access: bool = True
    password_access: bool = False

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> AccountSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def changed(self, updates: Mapping[str, Any]) -> AccountSettings:
        return replace(self, **{k: coerce(k, v) for k, v in updates.items()})


_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def coerce(key: str, value: Any) -> Any:
    """Validate one setting; strings such as ``on``/``off`` are accepted for the CLI."""
    types = {f.name: f.type for f in fields(AccountSettings)}
    if key not in types:
        raise Invalid.field(key, f"unknown setting; known settings: {', '.join(sorted(types))}")
    if types[key] == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise Invalid.field(key, "must be true or false")
    raise Invalid.field(key, "unsupported setting type")  # pragma: no cover - schema guard
