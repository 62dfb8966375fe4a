"""A small HTTP/1.1 load generator for POST /api/track: the fallback when wrk is missing, and the
exact counter (it stops sending at the deadline and waits for every answer, so the number of 204s
it reports can be compared with the stored rows exactly; wrk drops the requests in flight).

Each connection sends one request at a time (keep-alive), the same request as bench/track.lua:
one page_view with an event_id unique to the run, the headers Chrome sends with sendBeacon from a
page of the same site, and an anon_id cookie from a file of signed values when given.

    python bench/loadgen.py URL --connections 64 --duration 10 --prefix RUN [--cookies FILE]

prints one line `LOADJSON {...}` with the same keys as bench/track.lua's WRKJSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def body_for(prefix: str, conn: int, n: int) -> bytes:
    return (
        b'{"event_name":"page_view","page_path":"/services/boiler-repair?utm_source=google&utm_medium=cpc",'
        b'"params":{"title":"Boiler repair | Acme Heating"},"event_id":"'
        + f"{prefix}-{conn}-{n}".encode()
        + b'","ts":1764200000000}'
    )


async def _connection(
    host: str,
    port: int,
    index: int,
    prefix: str,
    cookies: list[str],
    stop_at: float,
    stats: dict,
    latencies: list[float],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    origin = f"http://{host}:{port}"
    head = (
        f"POST /api/track HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {UA}\r\n"
        "Content-Type: text/plain;charset=UTF-8\r\nAccept: */*\r\n"
        f"Origin: {origin}\r\nReferer: {origin}/services/boiler-repair?utm_source=google&utm_medium=cpc\r\n"
        "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: empty\r\n"
        'sec-ch-ua: "Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"\r\n'
        'sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: "Linux"\r\n'
        "Accept-Encoding: gzip, deflate, br, zstd\r\nAccept-Language: en-GB,en;q=0.9\r\n"
    ).encode()
    n = 0
    try:
        while time.monotonic() < stop_at:
            n += 1
            body = body_for(prefix, index, n)
            cookie = f"Cookie: anon_id={cookies[(n + index * 7919) % len(cookies)]}\r\n".encode() if cookies else b""
            request = head + cookie + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            start = time.perf_counter()
            writer.write(request)
            stats["sent"] += 1
            status_line = await reader.readline()
            if not status_line:
                stats["read"] += 1
                return
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            status = int(status_line.split()[1])
            stats["requests"] += 1
            if status >= 400:
                stats["status"] += 1
            else:
                stats["ok"] += 1
    except (ConnectionError, asyncio.IncompleteReadError):
        stats["read"] += 1
    finally:
        writer.close()


async def run(url: str, connections: int, duration: float, prefix: str, cookies: list[str]) -> dict:
    parts = urlsplit(url)
    stats = dict(requests=0, ok=0, sent=0, connect=0, read=0, write=0, status=0, timeout=0)
    latencies: list[float] = []
    start = time.monotonic()
    await asyncio.gather(
        *(
            _connection(
                parts.hostname or "127.0.0.1", parts.port or 80, i, prefix, cookies, start + duration, stats, latencies
            )
            for i in range(connections)
        )
    )
    elapsed = time.monotonic() - start
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1e6) if latencies else 0

    return dict(
        stats,
        duration_us=int(elapsed * 1e6),
        p50_us=pct(50),
        p90_us=pct(90),
        p99_us=pct(99),
        max_us=int(latencies[-1] * 1e6) if latencies else 0,
        mean_us=sum(latencies) / len(latencies) * 1e6 if latencies else 0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--prefix", default=f"lg{int(time.time())}")
    parser.add_argument("--cookies")
    args = parser.parse_args()
    cookies = []
    if args.cookies:
        with open(args.cookies) as f:
            cookies = [line.strip() for line in f if line.strip()]
    work = run(args.url, args.connections, args.duration, args.prefix, cookies)
    try:
        import uvloop

        result = uvloop.run(work)
    except ImportError:
        result = asyncio.run(work)
    print("LOADJSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
