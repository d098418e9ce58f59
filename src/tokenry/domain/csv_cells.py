"""Cells a spreadsheet would run as a formula, defused (CSV injection, as OWASP describes it).

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be read as a
formula by Excel, LibreOffice or Google Sheets. Such a cell gets a leading single quote, which
spreadsheets show as text and never evaluate. Quoting and doubled double quotes come from the
``csv`` module's writer, so a cell can never break out into the next one.
"""

from __future__ import annotations

FORMULA_START = frozenset("=+-@\t\r")


def defuse(value: object) -> object:
    """``value`` itself, or as text prefixed with ``'`` when a spreadsheet would evaluate it."""
    if isinstance(value, str):
        return defuse_text(value)
    return value


def defuse_text(value: str) -> str:
    return "'" + value if value[:1] in FORMULA_START else value
