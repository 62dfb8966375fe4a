"""The anon_id cookie: minted by the server, 128 random bits, HMAC-signed, verified on every request.

The cookie value is `<id>.<signature>`; only `<id>` is stored. An unsigned, tampered or malformed
value is never trusted: the caller replaces it with a fresh one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE_NAME = "anon_id"
_ID_BYTES = 16  # 128 bits
_ID_LENGTH = 22  # base64url of 16 bytes, unpadded
_SIG_LENGTH = 22  # the first 128 bits of HMAC-SHA256, base64url


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class AnonIdSigner:
    """Signs and verifies anon_id cookie values with a key derived from the secret key."""

    def __init__(self, secret_key: str) -> None:
        # A purpose-specific key, so the same secret can sign other cookies without cross-use.
        self._key = hashlib.sha256(b"leadtrail anon_id v1\x00" + secret_key.encode()).digest()

    def _signature(self, anon_id: str) -> str:
        digest = hmac.new(self._key, anon_id.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest[:16])

    def mint(self) -> tuple[str, str]:
        """A new (anon_id, cookie value) pair."""
        anon_id = _b64(secrets.token_bytes(_ID_BYTES))
        return anon_id, f"{anon_id}.{self._signature(anon_id)}"

    def cookie_value(self, anon_id: str) -> str:
        return f"{anon_id}.{self._signature(anon_id)}"

    def verify(self, value: str | None) -> str | None:
        """The anon_id inside a cookie value, or None when it is missing, unsigned or tampered."""
        if not value or len(value) != _ID_LENGTH + 1 + _SIG_LENGTH or value[_ID_LENGTH] != ".":
            return None
        anon_id, signature = value[:_ID_LENGTH], value[_ID_LENGTH + 1 :]
        try:
            expected = self._signature(anon_id)
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected, signature):
            return None
        return anon_id


class VerifiedCookies:
    """`signer.verify` that remembers the values it verified: a value that verified once verifies
    again (same key), so a returning visitor's next events skip the HMAC. Bounded: forgets all at
    `limit` values (a crowd of new visitors costs one HMAC each, as without it)."""

    __slots__ = ("_signer", "_known", "limit")

    def __init__(self, signer: AnonIdSigner, limit: int = 20_000) -> None:
        self._signer = signer
        self._known: dict[str, str] = {}
        self.limit = limit

    def verify(self, value: str | None) -> str | None:
        if value is None:
            return None
        anon_id = self._known.get(value)
        if anon_id is None:
            anon_id = self._signer.verify(value)
            if anon_id is not None:
                if len(self._known) >= self.limit:
                    self._known.clear()
                self._known[value] = anon_id
        return anon_id


def anon_cookie_header(value: str, max_age: int, secure: bool) -> str:
    """The Set-Cookie header for the anon_id cookie, as the contract spells it."""
    parts = [f"{COOKIE_NAME}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
