"""Who is signed in, their role, and the error every account operation raises for the person asking."""

from __future__ import annotations

from dataclasses import dataclass

# Roles (accounts/team.py): an owner sees and does everything; a viewer sees every page of the
# dashboard and changes, erases and downloads nothing. Accounts made before roles are owners.
OWNER = "owner"
VIEWER = "viewer"
ROLES = (OWNER, VIEWER)


class AccountError(Exception):
    """An owner account cannot be made or changed as asked; the message says why, for the person asking."""


@dataclass(frozen=True)
class Owner:
    """A dashboard account (an owner or, despite the name kept from before roles, a viewer)."""

    id: int
    email: str
    # Read from the database wherever an Owner is made from a row; the default, for one made by
    # hand, is the smaller grant.
    role: str = VIEWER

    @property
    def may_change(self) -> bool:
        """Changes, erases and downloads data, manages API tokens and the team: owners only."""
        return self.role == OWNER
