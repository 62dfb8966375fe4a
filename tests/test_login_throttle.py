"""The login throttle cannot be turned into a lock-out (issue 12, finding 4), on SQLite and
PostgreSQL: failures are counted per (account, client) with growing delays, per client address and,
for browsers that never signed in, per account; a browser that signed in before (its signed
known-device cookie) is held only to its own attempts, so nobody else's failures, from any number
of addresses, keep the owner out. Times are passed in, never slept through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import app_client, make_settings, run_store
from test_dashboard_helpers import OWNER_EMAIL, OWNER_PASSWORD, csrf_from, login

from leadtrail.accounts.keys import Keys
from leadtrail.accounts.throttling import (
    DEVICE_LIFETIME,
    FIRST_DELAY,
    FREE_ATTEMPTS_PER_CLIENT,
    MAX_ATTEMPTS_PER_ACCOUNT,
    MAX_ATTEMPTS_PER_ADDRESS,
    THROTTLE_WINDOW,
    Throttled,
    begin_attempt,
    pair_delay,
)
from leadtrail.http.render import too_many_attempts

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def keys_for(url: str) -> Keys:
    return Keys(make_settings(url).secret_key)


def attempt(store, keys, at: datetime, address: str = "198.51.100.7", device: str | None = None, email=OWNER_EMAIL):
    return begin_attempt(store, keys, email, address, at, device)


# -- pure ---------------------------------------------------------------------------------------------


def test_delays_double_after_the_free_attempts_and_stop_at_the_window():
    delays = [pair_delay(n) for n in range(1, 14)]
    assert delays[:FREE_ATTEMPTS_PER_CLIENT] == [timedelta(0)] * FREE_ATTEMPTS_PER_CLIENT
    growing = delays[FREE_ATTEMPTS_PER_CLIENT:]
    assert growing[:4] == [FIRST_DELAY, FIRST_DELAY * 2, FIRST_DELAY * 4, FIRST_DELAY * 8]
    assert max(growing) == THROTTLE_WINDOW and pair_delay(10_000) == THROTTLE_WINDOW


def test_a_device_cookie_is_bound_to_its_account_and_cannot_be_forged():
    keys = Keys("k" * 40)
    cookie = keys.device_cookie(OWNER_EMAIL)
    assert keys.device_key(OWNER_EMAIL, cookie) is not None
    assert keys.device_key(OWNER_EMAIL.upper(), cookie) is not None  # the address as typed, normalised
    assert keys.device_key("other@studio.example", cookie) is None
    assert Keys("x" * 40).device_key(OWNER_EMAIL, cookie) is None  # another server's key
    nonce, mac = cookie.split(".")
    flipped = mac[:-1] + ("B" if mac.endswith("A") else "A")
    for forged in ("", ".", nonce, f"{nonce}.", f"{nonce}.{flipped}", f"{nonce}x.{mac}", cookie + "x", "\x00" * 500):
        assert keys.device_key(OWNER_EMAIL, forged) is None, forged
    assert keys.device_key(OWNER_EMAIL, keys.device_cookie(OWNER_EMAIL)) != keys.device_key(OWNER_EMAIL, cookie)


def test_the_refusal_says_when_to_try_again():
    assert too_many_attempts(30, "logging in").endswith("logging in is paused: try again in 30 seconds.")
    assert too_many_attempts(1, "logging in").endswith("try again in 1 second.")
    assert too_many_attempts(119, "x").endswith("in 119 seconds.")
    assert too_many_attempts(900, "x").endswith("in about 15 minutes.")
    assert too_many_attempts(150, "x").endswith("in about 2 minutes.")


# -- over the store -----------------------------------------------------------------------------------


def test_one_client_waits_longer_and_longer(owner_db):
    """Five attempts, then each waits twice as long after the one before: refused early (the
    refusal says how long, and is not counted), accepted once the wait is over."""
    keys = keys_for(owner_db)

    async def work(store):
        seen = []
        at = T0
        for _ in range(FREE_ATTEMPTS_PER_CLIENT):
            assert isinstance(await attempt(store, keys, at), int)
            at += timedelta(seconds=1)
        for k in range(3):
            delay = FIRST_DELAY * (1 << k)
            early = await attempt(store, keys, at)
            again = await attempt(store, keys, at + timedelta(seconds=1))  # hammering does not extend it
            seen.append((early, again))
            at = at - timedelta(seconds=1) + delay  # the previous accepted attempt was 1 s before `at`
            assert isinstance(await attempt(store, keys, at), int), k
            at += timedelta(seconds=1)
        return seen

    seen = run_store(owner_db, work)
    for k, (early, again) in enumerate(seen):
        delay = int((FIRST_DELAY * (1 << k)).total_seconds())
        assert isinstance(early, Throttled) and isinstance(again, Throttled)
        assert delay - 2 <= early.retry_after <= delay + 1, (k, early)
        assert again.retry_after <= early.retry_after


def test_other_addresses_never_lock_the_owner_out(owner_db):
    """A thousand addresses guessing the owner's password (six each: five free plus one refused)
    fill the account's ceiling for unknown browsers, but the owner's browser that signed in before
    gets through at once, and so does the owner's own address once the attackers' failures are
    fewer than the ceiling."""
    keys = keys_for(owner_db)
    device = keys.device_cookie(OWNER_EMAIL)

    async def work(store):
        accepted = 0
        for i in range(1000):
            address = f"2001:db8:{i:x}::1"
            for j in range(FREE_ATTEMPTS_PER_CLIENT + 1):
                if isinstance(await attempt(store, keys, T0 + timedelta(milliseconds=i * 6 + j), address), int):
                    accepted += 1
        later = T0 + timedelta(seconds=10)
        return (
            accepted,
            await attempt(store, keys, later, "192.0.2.10"),  # the owner on a new browser
            await attempt(store, keys, later, "192.0.2.10", device),  # ... and on their own
            await attempt(store, keys, later, "192.0.2.10", keys_for(owner_db).device_cookie("x@studio.example")),
        )

    accepted, new_browser, known_browser, someone_elses = run_store(owner_db, work)
    assert accepted == MAX_ATTEMPTS_PER_ACCOUNT  # the whole attack got this many guesses checked
    assert isinstance(new_browser, Throttled)
    assert isinstance(known_browser, int)
    assert isinstance(someone_elses, Throttled)  # another account's cookie gives no exemption


def test_the_owner_address_is_not_held_by_a_few_other_addresses(owner_db):
    keys = keys_for(owner_db)

    async def work(store):
        for i in range(4):
            for j in range(FREE_ATTEMPTS_PER_CLIENT + 2):
                await attempt(store, keys, T0 + timedelta(seconds=j), f"203.0.113.{i}")
        return await attempt(store, keys, T0 + timedelta(seconds=20), "192.0.2.10")

    assert isinstance(run_store(owner_db, work), int)


def test_the_per_address_cap_holds_for_unknown_browsers_only(owner_db):
    """One address guessing across many accounts stops at the cap; the owner's known browser
    behind that same address (a shared office line) is not held by it."""
    keys = keys_for(owner_db)
    device = keys.device_cookie(OWNER_EMAIL)

    async def work(store):
        results = []
        for i in range(MAX_ATTEMPTS_PER_ADDRESS + 1):
            results.append(await attempt(store, keys, T0, "198.51.100.9", email=f"guess{i}@studio.example"))
        unknown = await attempt(store, keys, T0 + timedelta(seconds=1), "198.51.100.9")
        known = await attempt(store, keys, T0 + timedelta(seconds=1), "198.51.100.9", device)
        return results, unknown, known

    results, unknown, known = run_store(owner_db, work)
    assert all(isinstance(r, int) for r in results[:-1]) and isinstance(results[-1], Throttled)
    assert isinstance(unknown, Throttled) and isinstance(known, int)


def test_a_stolen_device_cookie_buys_no_extra_guesses(owner_db):
    """The known browser's own attempts are throttled like anyone's: five, then growing waits."""
    keys = keys_for(owner_db)
    device = keys.device_cookie(OWNER_EMAIL)

    async def work(store):
        return [await attempt(store, keys, T0, f"203.0.113.{i}", device) for i in range(FREE_ATTEMPTS_PER_CLIENT + 3)]

    results = run_store(owner_db, work)
    assert all(isinstance(r, int) for r in results[:FREE_ATTEMPTS_PER_CLIENT])
    assert all(isinstance(r, Throttled) for r in results[FREE_ATTEMPTS_PER_CLIENT:])


# -- over HTTP ------------------------------------------------------------------------------------------


def device_cookie_header(response) -> str | None:
    return next((c for c in response.headers.get_list("set-cookie") if "leadtrail_device=" in c), None)


def test_a_browser_that_signed_in_before_gets_in_during_an_attack(owner_db):
    """A login leaves the known-device cookie (a year, HttpOnly, SameSite=Strict); after logging
    out, with the account's ceiling filled from many addresses, that browser logs in while a new
    one is answered 429 with Retry-After."""
    keys = keys_for(owner_db)
    with app_client(owner_db) as owner, app_client(owner_db) as stranger:
        first = login(owner)
        assert first.status_code == 303
        header = device_cookie_header(first)
        assert header is not None
        lowered = header.lower()
        assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
        max_age = int(lowered.split("max-age=")[1].split(";")[0])
        assert max_age == int(DEVICE_LIFETIME.total_seconds()) >= 365 * 86400
        owner.post("/cp/logout", data={"csrf_token": csrf_from(owner.get("/cp/").text)})
        assert owner.get("/cp/", follow_redirects=False).status_code == 303  # logged out

        async def attack(store):
            now = datetime.now(UTC)
            for i in range(MAX_ATTEMPTS_PER_ACCOUNT + 5):
                await attempt(store, keys, now, f"203.0.113.{i}")

        run_store(owner_db, attack)
        refused = login(stranger)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "Too many attempts" in refused.text
        wait = int(refused.headers["retry-after"])  # the account's ceiling: up to the 15-minute window
        assert f"try again in about {round(wait / 60)} minutes" in refused.text or f"in {wait} second" in refused.text
        again = login(owner, password=OWNER_PASSWORD)
        assert again.status_code == 303
        assert device_cookie_header(again) is None  # still valid: not churned at every login
        assert owner.get("/cp/", follow_redirects=False).status_code == 200


def test_a_tampered_device_cookie_gets_no_exemption(owner_db):
    keys = keys_for(owner_db)
    with app_client(owner_db) as client:

        async def attack(store):
            now = datetime.now(UTC)
            for i in range(MAX_ATTEMPTS_PER_ACCOUNT + 1):
                await attempt(store, keys, now, f"203.0.113.{i}")

        run_store(owner_db, attack)
        nonce, mac = keys.device_cookie(OWNER_EMAIL).split(".")
        client.cookies.set("leadtrail_device", f"{nonce}.{mac[::-1]}")
        assert login(client).status_code == 429
        client.cookies.set("leadtrail_device", keys.device_cookie("someone@else.example"))
        assert login(client).status_code == 429
