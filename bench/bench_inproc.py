#!/usr/bin/env python3
"""In-process cost of POST /api/track, without sockets or a load generator: leadtrail's HTTP
protocol (server.py's guarded uvicorn httptools protocol) is fed raw requests through a fake
transport on 64 kept-alive connections, each sending its next request as soon as its answer is
written, with the real app and store (SQLite in a temp dir, or a throwaway PostgreSQL). Prints the
process CPU (user + sys, the SQLite writer thread included; not PostgreSQL's) per request.
Prints figures; asserts nothing.

On a shared machine CPU time moves with other work; instruction counts do not. For those, run it
twice under valgrind with different request counts and divide the difference:

    for n in 1280 5120; do valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \\
        .venv/bin/python bench/bench_inproc.py --reps 1 --warm 20 --requests $n 2>&1 | grep 'I *refs'; done

(difference / 3840 = instructions per request). `--bare` runs uvicorn's plain protocol with
bench/bare_app.py (reads the body, answers 204) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH.parent / "tests"), str(BENCH)]

import uvicorn  # noqa: E402
import uvloop  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from leadtrail.app import create_app, tune_gc_for_serving  # noqa: E402
from leadtrail.identity import AnonIdSigner  # noqa: E402
from leadtrail.server import protocol_for  # noqa: E402
from leadtrail.settings import load_settings, with_secret_key  # noqa: E402

SECRET = "bench-inproc-secret-0123456789abcdef"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
ORIGIN = "http://127.0.0.1:8000"


def request(event_id: str, cookie: str) -> bytes:
    """What bench/track.lua sends: one page_view with the headers of Chrome's sendBeacon."""
    body = (
        '{"event_name":"page_view","page_path":"/services/boiler-repair?utm_source=google&utm_medium=cpc",'
        f'"params":{{"title":"Boiler repair | Acme Heating"}},"event_id":"{event_id}","ts":1764200000000}}'
    ).encode()
    head = (
        f"POST /api/track HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Length: {len(body)}\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nUser-Agent: {UA}\r\nAccept: */*\r\nOrigin: {ORIGIN}\r\n"
        f"Referer: {ORIGIN}/services/boiler-repair?utm_source=google&utm_medium=cpc\r\n"
        "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: empty\r\n"
        'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"\r\n'
        'sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: "Linux"\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n'
        f"Accept-Language: en-GB,en;q=0.9\r\nCookie: anon_id={cookie}\r\n\r\n"
    )
    return head.encode() + body


class Transport(asyncio.Transport):
    def __init__(self, conn: Conn) -> None:
        super().__init__()
        self.conn = conn

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 40000 + self.conn.index), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data) -> None:
        self.conn.answered(data)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        raise RuntimeError("the server closed a connection")

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class Conn:
    def __init__(self, index: int, load: Load, protocol_class, config, state, loop) -> None:
        self.index, self.load, self.loop = index, load, loop
        self.protocol = protocol_class(config=config, server_state=state, app_state={}, _loop=loop)
        self.protocol.connection_made(Transport(self))
        self.left = 0
        self.done: asyncio.Future[None] | None = None

    def run(self, requests: int, done: asyncio.Future[None]) -> None:
        self.left, self.done = requests, done
        self.next()

    def next(self) -> None:
        if self.left == 0:
            assert self.done is not None
            self.done.set_result(None)
            return
        self.left -= 1
        self.protocol.data_received(self.load.request(self.index))

    def answered(self, data: bytes) -> None:
        if data.startswith(b"HTTP/1.1 "):
            status = data[9:12].decode()
            self.load.statuses[status] = self.load.statuses.get(status, 0) + 1
            self.loop.call_soon(self.next)  # a 204 has no body: the head is the whole answer


class Load:
    def __init__(self, cookies: list[str]) -> None:
        self.cookies, self.sent, self.prefix, self.statuses = cookies, 0, uuid.uuid4().hex[:8], {}

    def request(self, index: int) -> bytes:
        self.sent += 1
        return request(f"{self.prefix}-{self.sent}", self.cookies[(self.sent * 7 + index) % len(self.cookies)])


async def main(args) -> None:
    loop = asyncio.get_running_loop()
    pg = None
    if args.db == "postgres":
        from pgserver import PgServer

        pg = PgServer()
        pg.initdb()
        pg.start()
        url = pg.create_database("inproc")
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/inproc.db"
    env = {"LEADTRAIL_DATABASE_URL": url, "LEADTRAIL_SECRET_KEY": SECRET, "LEADTRAIL_RATE_LIMIT": "0"}
    settings = with_secret_key(load_settings(env=env))
    lifespan = None
    try:
        if args.bare:
            from bare_app import app

            protocol_class = HttpToolsProtocol
            config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None)
        else:
            app = create_app(settings)
            protocol_class = protocol_for(settings.max_connections, settings.head_timeout)
            config = uvicorn.Config(app, access_log=False, log_config=None, proxy_headers=False, server_header=False)
        config.load()
        if not args.bare:
            lifespan = config.lifespan_class(config)
            await lifespan.startup()
        tune_gc_for_serving()
        signer = AnonIdSigner(SECRET)
        load = Load([signer.mint()[1] for _ in range(1000)])
        state = ServerState()
        conns = [Conn(i, load, protocol_class, config, state, loop) for i in range(args.connections)]

        async def round_(per_connection: int) -> None:
            futures = [loop.create_future() for _ in conns]
            for conn, future in zip(conns, futures, strict=True):
                conn.run(per_connection, future)
            await asyncio.gather(*futures)

        await round_(args.warm)
        figures = []
        per = args.requests // args.connections
        for rep in range(args.reps):
            load.statuses.clear()
            before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            await round_(per)
            after, ended = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            n = per * len(conns)
            cpu = 1e6 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / n
            figures.append(cpu)
            print(
                f"{'bare' if args.bare else 'leadtrail'} {args.db} round {rep + 1}: {cpu:.1f} us CPU per request,"
                f" {1e6 * (ended - started) / n:.1f} us wall; answers {load.statuses}",
                flush=True,
            )
        figures.sort()
        print(
            f"median {figures[len(figures) // 2]:.1f} us CPU per request (min {figures[0]:.1f}, max {figures[-1]:.1f})"
        )
    finally:
        if lifespan is not None:
            await lifespan.shutdown()
        if pg is not None:
            pg.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=20_000, help="per round")
    parser.add_argument("--reps", type=int, default=5, help="rounds")
    parser.add_argument("--warm", type=int, default=100, help="warm-up requests per connection")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bare", action="store_true", help="uvicorn's plain protocol and bench/bare_app.py")
    uvloop.install()
    asyncio.run(main(parser.parse_args()))
