"""Ingest with and without the daily totals' roll-up, in the same run (issue 10: at most 5% less).

Each round starts `leadtrail serve` (bench/serve_totals.py) twice on a fresh database, once with
the periodic roll-up running (as in production: every 10 s, events older than 20 s) and once with
it switched off, in alternating order; wrk sends one page_view per request from 1,000 visitors
(bench/track.lua, as bench.py does) for `--duration` seconds after a 2-second warm-up. Figures
are medians of the rounds; "rolled" is how many page views the totals counted by the end of the
window (the last 20 s are not due yet). Prints figures; asserts nothing.

Run:  .venv/bin/python bench/bench_totals.py [--databases postgres,sqlite] [--rounds 3] [--duration 20]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import bench as b


def start(mode: str, url: str, workdir: Path) -> b.Server:
    port = b.free_port()
    argv = [b.PY, str(b.BENCH / "serve_totals.py"), mode, "serve", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--database-url", url, "--workers", "1"]
    logfile = workdir / f"totals-{mode}-{port}.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(
            argv,
            env=b.leadtrail_env(),
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = b.Server(f"totals-{mode}", proc, port, logfile)
    deadline = time.monotonic() + 60
    while b.http_status(f"http://127.0.0.1:{port}/healthz") != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(logfile.read_text()[-3000:])
        time.sleep(0.1)
    return server


def rolled(dbs: b.Databases, url: str) -> int:
    sql = "select coalesce(sum(views), 0) from totals_views"
    if url.startswith("postgres"):
        return int(dbs.pg.psql(sql, dbname=url.rsplit("/", 1)[1]))
    with sqlite3.connect(url[len("sqlite:///") :]) as conn:
        return conn.execute(sql).fetchone()[0]


def one(mode: str, dialect: str, dbs: b.Databases, args, cookiefile: Path, workdir: Path) -> dict:
    url = dbs.fresh(dialect)
    server = start(mode, url, workdir)
    try:
        prefix = f"t{mode}{uuid.uuid4().hex[:8]}"
        b.run_load(server.url, 2, args.connections, prefix + "w", cookiefile)
        with b.Monitor(server.proc.pid, b.pg_pid(url, dbs.pg)) as mon:
            load = b.run_load(server.url, args.duration, args.connections, prefix, cookiefile)
        cpu = mon.cpu_shares(load.loadgen_ticks)
        time.sleep(0.5)
        return {"rate": load.rate, "p99": load.p99_ms, "rows": dbs.count(url), "rolled": rolled(dbs, url), "cpu": cpu}
    finally:
        server.stop()
        dbs.drop(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="leadtrail-bench-totals-"))
    cookiefile = workdir / "cookies.txt"
    signer = b.AnonIdSigner(b.SECRET)
    cookiefile.write_text("\n".join(signer.mint()[1] for _ in range(1000)) + "\n")
    pg = None
    try:
        databases = [d.strip() for d in args.databases.split(",") if d.strip()]
        if "postgres" in databases:
            pg = b.PgServer()
            pg.initdb()
            pg.start()
        dbs = b.Databases(workdir, pg)
        for dialect in databases:
            runs: dict[str, list[dict]] = {"on": [], "off": []}
            for rnd in range(args.rounds):
                for mode in ("on", "off") if rnd % 2 == 0 else ("off", "on"):
                    r = one(mode, dialect, dbs, args, cookiefile, workdir)
                    runs[mode].append(r)
                    b.log(
                        f"  {dialect:8} round {rnd + 1} roll-up {mode:3} {r['rate']:8.0f} ev/s  p99 {r['p99']:6.2f} ms"
                        f"  rows {r['rows']}  rolled {r['rolled']}  cpu server {r['cpu']['server']:.0f}%"
                        f" pg {r['cpu']['pg']:.0f}% other {r['cpu']['other']:.0f}% idle {r['cpu']['idle']:.0f}%"
                    )
            on = statistics.median(r["rate"] for r in runs["on"])
            off = statistics.median(r["rate"] for r in runs["off"])
            b.log(f"{dialect}: roll-up on {on:.0f} ev/s, off {off:.0f} ev/s, ratio {on / off:.3f}")
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
