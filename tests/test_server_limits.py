"""The server's own limits against hostile clients (issue 12, findings 1-3), on a real
`leadtrail serve` over raw sockets: oversized request heads get 431 and a closed connection; a
body refused early is not read on; a head that trickles in is cut off; the connection cap holds;
and ordinary requests keep being answered meanwhile."""

from __future__ import annotations

import socket
import time

import pytest
from browser import CHROME_UA

SLOW = {"LEADTRAIL_HEAD_TIMEOUT": "2", "LEADTRAIL_RATE_LIMIT": "0"}


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def _read_all(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (or `limit` seconds pass)."""
    sock.settimeout(limit)
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _healthy(server) -> bool:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return _read_all(sock).startswith(b"HTTP/1.1 200")


def test_an_oversized_header_gets_431_and_a_closed_connection(start_server, sqlite_url):
    """A 4 MiB Cookie header is refused with 431 after the first 32 KiB; the server closes the connection."""
    server = start_server(sqlite_url, env=SLOW)
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ")
        sent = 0
        try:
            while sent < 4 * 1024 * 1024:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    assert sent < 4 * 1024 * 1024 or answer, "the server stopped reading"
    assert _healthy(server)


def test_a_body_refused_with_413_is_not_read_on(start_server, sqlite_url):
    """After a 413 for a never-ending chunked body the connection is closed: sending soon fails."""
    server = start_server(sqlite_url, env=SLOW)
    with _connect(server) as sock:
        sock.sendall(
            b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"User-Agent: " + CHROME_UA.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
        refused_after = None
        started = time.monotonic()
        try:
            for i in range(2000):  # up to 128 MiB  # noqa: B007 (read after the loop)
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            refused_after = i
        elapsed = time.monotonic() - started
    assert refused_after is not None and refused_after < 1000, "the server kept reading the refused body"
    assert elapsed < 20
    assert _healthy(server)


def test_a_head_that_trickles_in_is_cut_off(start_server, sqlite_url):
    """A connection sending its request head a byte at a time is closed after HEAD_TIMEOUT (2 s here)."""
    server = start_server(sqlite_url, env=SLOW)
    with _connect(server) as sock:
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            try:
                sock.sendall(bytes([byte]))
                sock.settimeout(0.3)
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed and time.monotonic() - started < 8


def test_an_idle_connection_that_never_speaks_is_closed(start_server, sqlite_url):
    """A connection that sends nothing at all is closed after HEAD_TIMEOUT, not held forever."""
    server = start_server(sqlite_url, env=SLOW)
    with _connect(server) as sock:
        started = time.monotonic()
        assert _read_all(sock, limit=8) == b""
        assert time.monotonic() - started < 7


def test_connections_beyond_the_cap_are_closed_and_service_comes_back(start_server, sqlite_url):
    """With MAX_CONNECTIONS=20, 40 idle connections: the extra ones are closed at once; once the
    idle ones time out, ordinary requests are answered again."""
    server = start_server(sqlite_url, env={**SLOW, "LEADTRAIL_MAX_CONNECTIONS": "20"})
    socks = [_connect(server) for _ in range(40)]
    try:
        closed = 0
        for sock in socks:
            sock.settimeout(0.5)
            try:
                if sock.recv(1) == b"":
                    closed += 1
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed += 1
        assert closed >= 15, closed
    finally:
        for sock in socks:
            sock.close()
    deadline = time.monotonic() + 10
    while not _healthy(server):
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize("port", ["0", "99999", "-1"])
def test_serve_refuses_a_port_outside_1_to_65535(port, tmp_path):
    """`serve --port 99999` is a usage error, not a server on some other port."""
    from click.testing import CliRunner

    from leadtrail.cli import main

    result = CliRunner().invoke(
        main, ["serve", "--port", port, "--database-url", f"sqlite:///{tmp_path}/x.db", "--demo"]
    )
    assert result.exit_code == 2 and "port" in result.output.lower()


def test_serve_says_a_busy_port_before_migrating(tmp_path):
    """A port in use is reported at once with exit code 1, and no database is created."""
    from click.testing import CliRunner

    from leadtrail.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = tmp_path / "x.db"
        result = CliRunner().invoke(main, ["serve", "--port", str(port), "--database-url", f"sqlite:///{db}", "--demo"])
    assert result.exit_code == 1 and "cannot listen" in result.output and not db.exists()


def test_migrate_show_creates_no_database_for_a_mistyped_path(tmp_path):
    """`migrate --show` on a path that does not exist fails and creates nothing; a missing directory fails for all."""
    from click.testing import CliRunner

    from leadtrail.cli import main

    db = tmp_path / "typo.db"
    result = CliRunner().invoke(main, ["migrate", "--show", "--database-url", f"sqlite:///{db}"])
    assert result.exit_code == 1 and "no database" in result.output and not db.exists()
    missing = CliRunner().invoke(main, ["migrate", "--database-url", f"sqlite:///{tmp_path}/nope/x.db"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
