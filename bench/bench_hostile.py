"""Normal /api/track latency and server memory, quiet and while hostile clients run (issue 12,
findings 1-3): 8 streams sending never-ending chunked bodies (each refused with 413, then cut
off), 300 slow-loris connections trickling a request head, and 4 clients sending 8 MiB headers.
Target: normal p99 under load within 2x of quiet. Prints figures; asserts nothing.

Run: .venv/bin/python bench/bench_hostile.py [--seconds 15]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def normal_latencies(port: int, seconds: float) -> list[float]:
    body = b'{"event_name":"page_view","page_path":"/bench","params":{"title":"Bench"}}'
    head = (
        f"POST /api/track HTTP/1.1\r\nHost: x\r\nUser-Agent: {UA}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    out: list[float] = []
    deadline = time.monotonic() + seconds
    sock = socket.create_connection(("127.0.0.1", port))
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            sock.sendall(head + body)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError
                data += chunk
        except OSError:
            sock.close()
            sock = socket.create_connection(("127.0.0.1", port))
            continue
        out.append((time.perf_counter() - started) * 1000)
        time.sleep(0.002)
    sock.close()
    return out


def endless_body(port: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(
                    b"POST /api/track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
                while not stop.is_set():
                    s.sendall(chunk)
        except OSError:
            time.sleep(0.05)


def slow_loris(port: int, stop: threading.Event, count: int) -> None:
    socks: list[socket.socket] = []
    while not stop.is_set():
        while len(socks) < count and not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=2)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                break
        for s in list(socks):
            try:
                s.sendall(b"X-a: b\r\n")
            except OSError:
                socks.remove(s)
                s.close()
        time.sleep(1.0)
    for s in socks:
        s.close()


def big_headers(port: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ")
                for _ in range(128):
                    s.sendall(b"a" * 65536)
        except OSError:
            time.sleep(0.05)


def summary(name: str, ms: list[float]) -> dict:
    ms = sorted(ms)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    mean = statistics.mean(ms)
    print(f"{name:>8}: {len(ms):6} requests  p50 {p(0.5):6.2f} ms  p99 {p(0.99):7.2f} ms  mean {mean:6.2f} ms")
    return {"p50": p(0.5), "p99": p(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="leadtrail-hostile-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADTRAIL_")}
    env.update(
        LEADTRAIL_SECRET_KEY="bench-secret-key-0123456789abcdef",
        LEADTRAIL_RATE_LIMIT="0",
        LEADTRAIL_HEAD_TIMEOUT="10",
        LEADTRAIL_PRUNE_PROBABILITY="0",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadtrail",
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{workdir}/b.db",
        ],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        normal_latencies(port, 2)  # warm up
        quiet = summary("quiet", normal_latencies(port, args.seconds))
        rss_quiet = rss_kb(proc.pid)
        stop = threading.Event()
        threads = [threading.Thread(target=endless_body, args=(port, stop), daemon=True) for _ in range(8)]
        threads += [threading.Thread(target=slow_loris, args=(port, stop, 300), daemon=True)]
        threads += [threading.Thread(target=big_headers, args=(port, stop), daemon=True) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        hostile = summary("hostile", normal_latencies(port, args.seconds))
        rss_hostile = rss_kb(proc.pid)
        stop.set()
        print(f"RSS: quiet {rss_quiet / 1024:.0f} MB, under attack {rss_hostile / 1024:.0f} MB")
        print(f"normal p99 under attack / quiet: {hostile['p99'] / quiet['p99']:.2f} (target <= 2)")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
