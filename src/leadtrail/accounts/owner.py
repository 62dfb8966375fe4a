"""Who is signed in, and the error every account operation raises for the person asking."""

from __future__ import annotations

from dataclasses import dataclass


class AccountError(Exception):
    """An owner account cannot be made or changed as asked; the message says why, for the person asking."""


@dataclass(frozen=True)
class Owner:
    id: int
    email: str
