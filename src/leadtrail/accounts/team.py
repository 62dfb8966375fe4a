"""The team: who may use the dashboard, and how an owner brings someone in.

- Roles: an `owner` sees and does everything; a `viewer` sees every page (the list, journeys,
  insights, the spam list) and changes nothing: no erasure, no download, no outcome, no API
  tokens, no team. The dashboard's guard (http/sessions.owner_required) lets a viewer through
  only to the handlers marked as readable (http/sessions.member_required), so a route added
  later is an owner's until someone decides otherwise.
- Invites: an owner names an address and a role; the link carries 256 random bits, shown once,
  of which only the SHA-256 is stored (an invite is as guessable as an API token: not at all, so
  no slow hash is needed). It works once, for INVITE_TTL, until revoked, and goes with the owner
  who made it. A second invite to the same address replaces the first.
- Accepting: the invitee chooses a password (the same rules as every password) and is signed in.
  Token guesses count as login attempts of the client address (begin_attempt): the same
  per-address cap, shared with password guesses, and the same growing delays; no cap over all
  clients, so nobody can lock every invitee out. Only a usable link is forgiven.
- Removing a member ends their sessions at once (and withdraws their invites). The last owner
  cannot be removed, so a team always has someone who can manage it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..ingest import normalise_email, valid_email
from ..store import SqlStore, utcnow
from ..store.dashboard import MAX_ID
from .keys import Keys, new_token, token_hash
from .owner import OWNER, ROLES, VIEWER, AccountError, Owner
from .passwords import hash_password, new_password_problem
from .throttling import Throttled, begin_attempt

INVITE_TTL = timedelta(days=7)
KEEP_SPENT_INVITES = timedelta(days=30)  # used, revoked or expired links are forgotten after this
_TEAM_LOCK = "leadtrail:cp:team"
_TOKEN_LENGTH = 43  # new_token(): 32 bytes, URL-safe base64 without padding

ROLE_NAMES = {OWNER: "Owner", VIEWER: "Viewer"}
ROLE_DESCRIPTIONS = {
    OWNER: "sees everything; erases, exports, sets outcomes, manages API tokens and the team",
    VIEWER: "sees every page; cannot erase, export, change outcomes or manage tokens or the team",
}


class TeamError(AccountError):
    """A team change cannot be made as asked; the message says why, for the person asking."""


class NotAMember(TeamError):
    """No account has that id (removed meanwhile, or never was)."""


class NotAnOwner(TeamError):
    """The account asking to invite is not an owner (any more): a viewer, or removed meanwhile."""


class InviteUnusable(TeamError):
    """The link does not open an invite (the message says why) and the page answers `status`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _unknown_link() -> InviteUnusable:
    return InviteUnusable(
        "this invite link does not work: it may be mistyped or cut short. "
        "Ask the person who invited you to send it again",
        404,
    )


@dataclass(frozen=True)
class Invite:
    id: int
    email: str
    role: str
    expires_at: datetime
    invited_by: str  # the address of the owner who made it


@dataclass(frozen=True)
class NewInvite:
    """A fresh invite and its token: the only moment the token exists outside the link."""

    invite: Invite
    token: str
    replaced: bool  # an earlier pending invite to this address stopped working


def last_owner_problem(email: str) -> str:
    return (
        f"the only owner, {email}, cannot be removed: invite another owner first, so someone can still manage the team"
    )


def inviter_problem(still_member: bool) -> str:
    if still_member:
        return "only an owner can invite someone to the team"
    return "your account is no longer on the team, so it cannot invite anyone"


def role_problem(role: str) -> str | None:
    return None if role in ROLES else f"choose a role: {' or '.join(ROLES)}"


def _address(email: str) -> str:
    address = normalise_email(email)
    if not valid_email(address):
        raise TeamError(f"{email.strip()[:320]!r} is not an e-mail address")
    return address


def plausible_token(token: str | None) -> bool:
    """Has the shape new_token() gives (the check before any database work)."""
    return (
        token is not None
        and len(token) == _TOKEN_LENGTH
        and token.isascii()
        and all(c.isalnum() or c in "-_" for c in token)
    )


# -- owners' side: inviting, revoking, listing, removing ------------------------------------------


async def create_invite(
    store: SqlStore, inviter: Owner, email: str, role: str, now: datetime | None = None
) -> NewInvite:
    """An invite for `email` as `role`, made by an owner. TeamError (nothing changed) when the
    address is not one, the role unknown, or the address has an account already; NotAnOwner when
    the inviter is not an owner in the database at this moment (a viewer, or removed)."""
    now = now or utcnow()
    address = _address(email)
    problem = role_problem(role)
    if problem:
        raise TeamError(problem)
    token = new_token()
    async with store.transaction(lock_key=_TEAM_LOCK) as tx:
        # Checked here, under the team lock, not only by the route's guard: an invite can never
        # grant more than its maker holds at this moment (a viewer, or an owner removed since
        # the guard looked, makes none; the latter would otherwise break the foreign key).
        maker = await tx.fetch("cp_team_member", id=inviter.id)
        if not maker or maker[0]["role"] != OWNER:
            raise NotAnOwner(inviter_problem(bool(maker)))
        if await tx.fetch("cp_owner_by_email", email=address):
            raise TeamError(f"the address {address} already has an account on this dashboard")
        replaced = await tx.execute("cp_invites_revoke_email", email=address, now=now)
        invite_id = await tx.fetchval(
            "cp_invite_insert",
            token_hash=token_hash(token),
            email=address,
            role=role,
            invited_by=inviter.id,
            now=now,
            expires_at=now + INVITE_TTL,
        )
    return NewInvite(Invite(int(invite_id), address, role, now + INVITE_TTL, inviter.email), token, bool(replaced))


async def pending_invites(store: SqlStore, now: datetime | None = None) -> list[dict[str, Any]]:
    """Invites still usable, newest first: id, email, role, who invited, when, until when."""
    rows = await store.fetch("cp_invites_pending", now=now or utcnow())
    return [
        {
            **row,
            "created_at": store.decode_time(row["created_at"]),
            "expires_at": store.decode_time(row["expires_at"]),
        }
        for row in rows
    ]


async def invite_to_show(
    store: SqlStore, token: str | None, inviter: Owner, now: datetime | None = None
) -> Invite | None:
    """The pending invite behind a token its maker's browser holds for the page that shows the
    link once; None for anything else (used, withdrawn, expired, another owner's, no token)."""
    if not plausible_token(token):
        return None
    try:
        invite = await _usable(store, token, now or utcnow())
    except InviteUnusable:
        return None
    return invite if invite.invited_by == inviter.email else None


async def revoke_invite(store: SqlStore, invite_id: int, now: datetime | None = None) -> bool:
    """Withdraws a pending invite; False when there was none with that id (used, revoked, gone)."""
    if not _an_id(invite_id):
        return False
    async with store.transaction() as tx:
        return bool(await tx.execute("cp_invite_revoke", id=invite_id, now=now or utcnow()))


async def members(store: SqlStore) -> list[dict[str, Any]]:
    """Everyone with a dashboard account: owners first, then by when they joined."""
    rows = await store.fetch("cp_team_members")
    return [
        {
            **row,
            "id": int(row["id"]),
            "created_at": store.decode_time(row["created_at"]),
            "last_login_at": None if row["last_login_at"] is None else store.decode_time(row["last_login_at"]),
        }
        for row in rows
    ]


def _an_id(value: int) -> bool:
    """Could be a row's id (a URL's digits can be past what either database stores)."""
    return 0 < value <= MAX_ID


async def member(store: SqlStore, member_id: int) -> dict[str, Any] | None:
    if not _an_id(member_id):
        return None
    rows = await store.fetch("cp_team_member", id=member_id)
    return rows[0] if rows else None


async def remove_member(store: SqlStore, member_id: int) -> str:
    """Removes an account with its sessions and the invites it made; returns its address.
    TeamError when there is no such account or it is the last owner (nothing changed)."""
    if not _an_id(member_id):
        raise NotAMember("that account is not on the team (any more)")
    async with store.transaction(lock_key=_TEAM_LOCK) as tx:
        rows = await tx.fetch("cp_team_member", id=member_id)
        if not rows:
            raise NotAMember("that account is not on the team (any more)")
        row = rows[0]
        if row["role"] == OWNER and int(await tx.fetchval("cp_team_owner_count") or 0) <= 1:
            raise TeamError(last_owner_problem(row["email"]))
        # Sessions and invites go with the account by foreign key; said here too so the removal
        # never depends on SQLite's foreign_keys pragma being on for this connection.
        await tx.execute("cp_sessions_delete_owner", owner_id=member_id)
        await tx.execute("cp_invites_delete_by", invited_by=member_id)
        await tx.execute("cp_team_member_delete", id=member_id)
    return str(row["email"])


# -- the invitee's side: opening the link, accepting -------------------------------------------------


async def open_invite(
    store: SqlStore, keys: Keys, token: str | None, address: str, now: datetime | None = None
) -> Invite | Throttled:
    """The invite behind a link, for the page that opens it: counted as a login attempt of the
    client address first (token guessing is throttled like password guessing) and forgiven when
    the link works. InviteUnusable says why one does not: unknown (404), used, revoked, expired."""
    now = now or utcnow()
    attempt = await begin_attempt(store, keys, _guess_account(address), address, now)
    if isinstance(attempt, Throttled):
        return attempt
    invite = await _usable(store, token, now)
    await store.execute("cp_attempt_delete", id=attempt)  # a working link is not a guess
    return invite


def _guess_account(address: str) -> str:
    """The throttling account of invite-link guesses from one client address: its own, so the
    cap over all clients of an account never applies and nobody can shut invites for everyone."""
    return f"invite-link {address}"


async def _usable(store: SqlStore, token: str | None, now: datetime) -> Invite:
    if not plausible_token(token):
        raise _unknown_link()
    assert token is not None
    rows = await store.fetch("cp_invite_by_hash", token_hash=token_hash(token))
    if not rows:
        raise _unknown_link()
    row = rows[0]
    if row["used_at"] is not None:
        raise InviteUnusable(
            "this invite has been used already. If it was you, log in with your address and password", 410
        )
    if row["revoked_at"] is not None:
        raise InviteUnusable(
            "this invite was withdrawn by an owner. Ask them for a new one if you still need access", 410
        )
    if store.decode_time(row["expires_at"]) <= now:
        days = INVITE_TTL.days
        raise InviteUnusable(f"this invite has expired (links work for {days} days). Ask the owner for a new one", 410)
    return Invite(int(row["id"]), row["email"], row["role"], store.decode_time(row["expires_at"]), row["invited_by"])


async def accept_invite(
    store: SqlStore, invite: Invite, token: str, password: str, confirm: str, now: datetime | None = None
) -> Owner:
    """Makes the invited account with the chosen password and uses the invite up, in one
    transaction. TeamError (nothing changed, the link still works) for a refused password or an
    address that got an account meanwhile; InviteUnusable when the link stopped working."""
    now = now or utcnow()
    problem = new_password_problem(invite.email, password, confirm)
    if problem:
        raise TeamError(problem)
    password_hash = await hash_password(password)  # before the transaction: it takes a while
    async with store.transaction(lock_key=_TEAM_LOCK) as tx:
        used = await tx.execute("cp_invite_use", token_hash=token_hash(token), id=invite.id, now=now)
        if used != 1:
            raise InviteUnusable("this invite stopped working a moment ago (used, withdrawn or expired)", 410)
        owner_id = await tx.fetchval(
            "cp_owner_insert", email=invite.email, password_hash=password_hash, role=invite.role, created_at=now
        )
        if owner_id is None:
            raise TeamError(f"an account with the address {invite.email} exists already: log in with it instead")
        await tx.execute("cp_owner_login", id=owner_id, now=now, password_hash=None)
    return Owner(int(owner_id), invite.email, invite.role)


async def housekeeping(store: SqlStore, now: datetime | None = None) -> int:
    """Forgets invites that stopped working more than KEEP_SPENT_INVITES ago."""
    now = now or utcnow()
    return await store.execute("cp_invites_delete_old", before=now - KEEP_SPENT_INVITES)
