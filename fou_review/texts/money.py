"""Amounts in whole kronor, written the way a Swedish public record writes them."""

from __future__ import annotations

NBSP = "\u00a0"


def format_kr(amount: int, unit: str = "kr") -> str:
    """4998030 -> "4 998 030 kr", grouped in threes with a no-break space (as CLDR sv_SE)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amounts are whole kronor as int, got {type(amount).__name__} {amount!r}")
    sign = "\u2212" if amount < 0 else ""
    digits = f"{abs(amount):,}".replace(",", NBSP)
    return f"{sign}{digits}{NBSP}{unit}" if unit else f"{sign}{digits}"
