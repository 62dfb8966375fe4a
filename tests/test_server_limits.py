"""The server's own limits against hostile clients (issue 12, findings 1-3), on a real
`leadtrail serve` over raw sockets: oversized request heads get 431 and a closed connection with
the server's memory bounded; a body refused early is not read on; a head that trickles in is cut
off; the connection cap holds; and ordinary requests keep being answered while all that runs."""

from __future__ import annotations

import json
import resource
import socket
import threading
import time
from pathlib import Path

import pytest
from browser import CHROME_UA

SLOW = {"LEADTRAIL_HEAD_TIMEOUT": "2", "LEADTRAIL_RATE_LIMIT": "0"}
TRACK_BODY = json.dumps({"event_name": "page_view", "page_path": "/limits", "params": {}}).encode()


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


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


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _healthy(server) -> bool:
    try:
        with _connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return _read_all(sock, limit=3).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _track(server) -> int:
    """One ordinary /api/track request from a browser; its status, or 0 when it was not answered."""
    head = (
        f"POST /api/track HTTP/1.1\r\nHost: x\r\nUser-Agent: {CHROME_UA}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(TRACK_BODY)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        with _connect(server) as sock:
            sock.settimeout(3)
            sock.sendall(head + TRACK_BODY)
            answer = _read_all(sock, limit=3)
    except OSError:
        return 0
    return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0


def _send_until_refused(sock: socket.socket, first: bytes, piece: bytes, at_most: int) -> int:
    """Sends `first`, then `piece` until `at_most` bytes went out or the server cut the connection."""
    sock.sendall(first)
    sent = 0
    try:
        while sent < at_most:
            sock.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_a_64_mib_cookie_is_refused_early_with_bounded_memory(start_server, sqlite_url):
    """A 64 MiB Cookie header: the server answers 431 after the first 32 KiB, stops reading (the
    sender is cut off within a few MiB) and its memory grows by less than 8 MiB."""
    server = start_server(sqlite_url, env=SLOW)
    before = _rss_kb(server.proc.pid)
    with _connect(server) as sock:
        sent = _send_until_refused(
            sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: a=", b"b" * 65536, at_most=64 * 1024 * 1024
        )
        answer = _read_all(sock)
    grown = _rss_kb(server.proc.pid) - before
    assert sent < 8 * 1024 * 1024, f"the server read {sent} bytes of one header"
    assert answer.startswith(b"HTTP/1.1 431") and b"connection: close" in answer.lower(), answer[:120]
    assert grown < 8 * 1024, f"RSS grew by {grown} kB"
    assert _healthy(server)


def test_a_head_just_under_the_cap_is_served_however_it_is_split(start_server, sqlite_url):
    """A 30 KiB head with a 30 KiB body is answered, even when its blank line arrives split across reads."""
    server = start_server(sqlite_url, env=SLOW)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * (30 * 1024) + b"\r\nContent-Length: 30720\r\n\r\n"
    for cut in (len(head) - 3, len(head) - 2, len(head) - 1, len(head)):
        with _connect(server) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(head[:cut])
            time.sleep(0.05)  # let the server read the first part on its own (a positive check follows)
            sock.sendall(head[cut:] + b"b" * 30720)
            sock.settimeout(5)
            assert sock.recv(12) == b"HTTP/1.1 200", cut


def test_a_body_refused_with_413_is_not_read_on(start_server, sqlite_url):
    """After a 413 for a never-ending chunked body the answer says `connection: close` and the
    connection is closed: the sender is cut off long before 128 MiB."""
    server = start_server(sqlite_url, env=SLOW)
    with _connect(server) as sock:
        sent = _send_until_refused(
            sock,
            b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"User-Agent: " + CHROME_UA.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"%x\r\n%s\r\n" % (65536, b"x" * 65536),
            at_most=128 * 1024 * 1024,
        )
        answer = _read_all(sock)
    assert sent < 64 * 1024 * 1024, "the server kept reading the refused body"
    assert answer.startswith(b"HTTP/1.1 413") and b"connection: close" in answer.lower(), answer[:200]
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


def _endless_bodies(server, stop: threading.Event) -> None:
    head = (
        b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"User-Agent: " + CHROME_UA.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (16384, b"x" * 16384)
    while not stop.is_set():
        try:
            with _connect(server) as sock:
                sock.sendall(head)
                while not stop.is_set():
                    sock.sendall(chunk)
        except OSError:
            stop.wait(0.01)


def _huge_heads(server, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with _connect(server) as sock:
                _send_until_refused(sock, b"GET / HTTP/1.1\r\nHost: x\r\nCookie: ", b"c" * 65536, 8 * 1024 * 1024)
        except OSError:
            stop.wait(0.01)


def test_ordinary_requests_are_answered_while_hostile_clients_run(start_server, sqlite_url):
    """With 256 descriptors (MAX_CONNECTIONS=150): 300 slow-loris connections, 2 endless bodies and a
    stream of huge headers at once; the slow ones are dropped and ordinary /api/track requests are
    answered again within seconds, 20 of 20, while the other attacks go on."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # the server inherits 256 descriptors
    try:
        server = start_server(sqlite_url, env={**SLOW, "LEADTRAIL_MAX_CONNECTIONS": "150"})
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    stop = threading.Event()
    slow: list[socket.socket] = []
    threads = [threading.Thread(target=_endless_bodies, args=(server, stop)) for _ in range(2)]
    threads.append(threading.Thread(target=_huge_heads, args=(server, stop)))
    try:
        for _ in range(300):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", server.port))
            slow.append(sock)
        for sock in slow:
            try:
                sock.send(b"GET / HTTP/1.1\r\n")
            except OSError:
                pass
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _track(server) not in (200, 202, 204):
            assert time.monotonic() < deadline, "no ordinary request answered while hostile clients run"
            for sock in slow:  # the slow-loris clients keep trickling
                try:
                    sock.send(b"X")
                except OSError:
                    pass
        answered = [_track(server) for _ in range(20)]
        assert all(status in (200, 202, 204) for status in answered), answered
        assert all(thread.is_alive() for thread in threads)  # the attacks were still running
    finally:
        stop.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join(10)
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("flag", [[], ["--workers", "2"]], ids=["one process", "two workers"])
def test_every_worker_has_the_limits(start_server, sqlite_url, flag):
    """Under `serve --workers 2` too: idle connections are closed after HEAD_TIMEOUT and a
    40 KiB header gets 431."""
    server = start_server(sqlite_url, *flag, env=SLOW)
    for _ in range(4):  # several connections, to reach both workers
        with _connect(server) as sock:
            started = time.monotonic()
            assert _read_all(sock, limit=8) == b"" and time.monotonic() - started < 7
        with _connect(server) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 40 * 1024 + b"\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert _read_all(sock).startswith(b"HTTP/1.1 431")
