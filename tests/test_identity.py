"""The anon_id cookie: minted, signed, verified."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadtrail.identity import AnonIdSigner, anon_cookie_header

signer = AnonIdSigner("a-secret-key-for-tests-only")


def test_minted_ids_are_random_128_bit_and_verify():
    """Each minted id carries 128 random bits and its cookie value verifies to it."""
    ids = set()
    for _ in range(200):
        anon_id, value = signer.mint()
        assert signer.verify(value) == anon_id
        ids.add(anon_id)
    assert len(ids) == 200 and all(len(i) == 22 for i in ids)


def test_other_keys_and_edits_do_not_verify():
    """A value signed with another key, or with one character changed, is refused."""
    anon_id, value = signer.mint()
    assert AnonIdSigner("another-secret-key-xxxxx").verify(value) is None
    for i in range(len(value)):
        edited = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
        assert signer.verify(edited) is None


@given(st.text(max_size=80))
def test_arbitrary_values_never_verify_or_raise(value):
    """Any string that was not minted is refused without an exception."""
    assert signer.verify(value) is None


def test_cookie_header_attributes():
    """The header carries HttpOnly, SameSite=Lax, Path=/, Max-Age and Secure only on HTTPS."""
    assert anon_cookie_header("v", 86400, secure=False) == "anon_id=v; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax"
    assert anon_cookie_header("v", 60, secure=True).endswith("; Secure")
