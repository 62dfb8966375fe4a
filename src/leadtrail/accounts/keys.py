"""The dashboard's keyed hashes and random tokens.

- CSRF: a session's token is an HMAC of its cookie value (synchroniser token, nothing stored);
  before login, a signed double-submit pair (random cookie, HMAC of it in the form).
- Throttling keys: keyed hashes of the account and the client address (never the raw address).
- The known-device cookie: a browser that signed in to an account before.
- Setup tokens: HMAC(secret key, nonce).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from ..ingest import normalise_email


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Keys:
    """Purpose-specific keys derived from the secret key (as identity.py does for anon_id)."""

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"leadtrail dashboard v1\x00" + secret_key.encode()).digest()

    def mac(self, purpose: str, value: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest())

    # CSRF, after login: a synchroniser token bound to the session, recomputed, never stored.
    def session_csrf(self, session_token: str) -> str:
        return self.mac("csrf", session_token)

    # CSRF, before login: signed double submit. The cookie holds random bits, the form their HMAC.
    def presession_csrf(self, cookie_value: str) -> str:
        return self.mac("login-csrf", cookie_value)

    def account_key(self, email: str) -> str:
        return self.mac("login-account", normalise_email(email))[:32]

    def address_key(self, address: str) -> str:
        return self.mac("login-address", address)[:32]

    def setup_token(self, nonce: str) -> str:
        return self.mac("setup", nonce)

    # A browser that signed in to an account: "<nonce>.<HMAC(account, nonce)>" in a cookie. It
    # proves only that this browser once knew the password; it opens nothing by itself.
    def device_cookie(self, email: str, nonce: str | None = None) -> str:
        nonce = nonce or secrets.token_urlsafe(18)
        return f"{nonce}.{self.mac('login-device', self.account_key(email) + nonce)}"

    def device_key(self, email: str, cookie: str | None) -> str | None:
        """The throttling key of a known browser of this account, or None (no, a tampered or
        another account's cookie)."""
        value = (cookie or "")[:200]
        nonce, _, mac = value.partition(".")
        if not nonce or not mac or not hmac.compare_digest(self.device_cookie(email, nonce).encode(), value.encode()):
            return None
        return "d:" + self.mac("login-device-key", nonce)[:30]


def csrf_matches(expected: str, given: str | None) -> bool:
    return (
        given is not None and given != "" and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
    )


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
