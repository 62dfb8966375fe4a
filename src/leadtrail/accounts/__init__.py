"""Dashboard accounts (owners and viewers), a module per concern. Import from the module that holds the name:

- owner.py: Owner (who is signed in) and AccountError.
- keys.py: the dashboard's keyed hashes (Keys: CSRF, throttling keys, setup tokens, the
  known-device cookie), new_token(), token_hash().
- passwords.py: argon2id hashing, the password rules, authenticate() with the dummy check.
- sessions.py: start, read, end; housekeeping().
- throttling.py: login attempts counted in the database (begin_attempt, forgive_*).
- users.py: owners made and found; password changes and resets.
- setup.py: the first-owner setup link.
- team.py: roles in use, invites (one-time links), members listed and removed (never the last owner).

Everything that must agree across worker processes (sessions, failed attempts, the setup token)
lives in the database; nothing here keeps state in memory except the dummy hash that makes an
unknown address cost as much to check as a wrong password. The modules import one another in
that order only (owner, keys, passwords, throttling, sessions, users, setup, team): no cycles.
"""
