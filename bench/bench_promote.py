#!/usr/bin/env python3
"""Promote latency at scale, with the database kept between runs, and code trees compared in
alternating rounds on the same database.

    python bench/bench_promote.py --state /tmp/lt-promote [--rows 10000000] [--rounds 3]
        [--promotes 300] [--tree before=/tmp/lt-before/src] [--tree after=src]

The first run with a new --state directory initdb's a PostgreSQL there and loads it exactly as
bench.py's scale part does (`bulk_load_pg`: `--rows` expired events plus one visitor's 2,000 fresh
ones interleaved among them, indexes built afterwards with the migrations' own definitions);
later runs start PostgreSQL on the same data directory (loading 10M rows takes minutes). Each
round starts `leadtrail serve` once per tree (the order alternates by round) with a 30-day TTL,
empties `submission_journeys` first (so every tree counts the visitor's earlier enquiries from
the same start), and times `--promotes` sequential promotes over HTTP exactly as bench.py does
(`promote_latency`: 200 client events, a new e-mail each). Prints p50 / p99 per tree and round,
their medians and spreads, and the machine's CPU used by others during each round.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench
from bench import SECRET, Monitor, PgServer, bulk_load_pg, log, promote_latency
from leadtrail.identity import AnonIdSigner


def open_pg(state: Path) -> PgServer:
    """PostgreSQL on the state directory's data dir (initdb'd when new)."""
    pg = PgServer()
    shutil.rmtree(pg.base, ignore_errors=True)
    pg.base = state
    pg.datadir, pg.sockdir, pg.logfile = state / "data", state / "sock", state / "postgres.log"
    state.mkdir(parents=True, exist_ok=True)
    pg.sockdir.mkdir(exist_ok=True)
    if pg.run_as:
        for p in (state, pg.sockdir):
            os.chown(p, pg.run_as.pw_uid, pg.run_as.pw_gid)
    if not pg.datadir.exists():
        pg.initdb()
    pg.start()
    return pg


def start(kind: str, url: str, workdir: Path, env: dict[str, str], totals: str) -> bench.Server:
    """bench.start, through bench/serve_totals.py when the periodic totals are off."""
    if totals != "off":
        return bench.start(kind, url, workdir, env)
    saved = bench.PY
    wrapper = workdir / "python-totals-off"
    wrapper.write_text(
        f'#!/bin/sh\nshift 2\nexec {saved} {bench.BENCH / "serve_totals.py"} off "$@"\n'  # drops "-m leadtrail"
    )
    wrapper.chmod(0o755)
    bench.PY = str(wrapper)
    try:
        return bench.start(kind, url, workdir, env)
    finally:
        bench.PY = saved


def prepared(pg: PgServer, state: Path, rows: int) -> dict:
    info_file = state / "bench.json"
    if info_file.exists():
        info = json.loads(info_file.read_text())
        if info["rows"] == rows:
            return info
    visitor, cookie = AnonIdSigner(SECRET).mint()
    t0 = time.monotonic()
    log(f"loading {rows:,} expired rows + 2,000 fresh events of one visitor ...")
    url = bulk_load_pg(pg, rows, visitor)
    info = {"rows": rows, "db": url.rsplit("/", 1)[1], "visitor": visitor, "cookie": cookie}
    info_file.write_text(json.dumps(info))
    log(f"loaded in {time.monotonic() - t0:.0f} s")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--promotes", type=int, default=300)
    parser.add_argument("--tree", action="append", default=[], help="NAME=path to a source tree's src directory")
    parser.add_argument(
        "--totals",
        choices=["caught-up", "backlog", "off"],
        default="caught-up",
        help="the daily totals' periodic roll-up and journey facts: caught up before each run (only "
        "the promotes' own journeys get facts), the whole 48 h backlog to count from the start of "
        "each run (as in bench.py's fresh database), or not started",
    )
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--profile", type=int, default=0, help="N in-process promotes per tree (profile_promote.py)")
    args = parser.parse_args()
    trees = [t.split("=", 1) for t in args.tree] or [["here", str(bench.ROOT / "src")]]
    pg = open_pg(args.state.resolve())
    results: dict[str, list[dict]] = {name: [] for name, _ in trees}
    try:
        info = prepared(pg, args.state, args.rows)
        if args.load_only:
            return
        url = pg.dsn_for(info["db"])
        workdir = args.state / "work"
        workdir.mkdir(exist_ok=True)
        for name, src in trees if args.profile else []:
            pg.psql("truncate submission_journeys cascade", dbname=info["db"])
            print(f"== {name}", flush=True)
            subprocess.run(
                [bench.PY, str(bench.BENCH / "profile_promote.py"), "--dsn", url, "--visitor", info["visitor"]]
                + ["--n", str(args.profile)],
                env=dict(os.environ, PYTHONPATH=str(Path(src).resolve())),
                check=True,
            )
        for rnd in range(args.rounds):
            order = trees if rnd % 2 == 0 else trees[::-1]
            for name, src in order:
                pg.psql("truncate submission_journeys cascade", dbname=info["db"])
                if args.totals == "backlog":
                    pg.psql("delete from totals_rollup", dbname=info["db"])
                else:
                    pg.psql(
                        "insert into totals_rollup (id, through) values (1, now()) "
                        "on conflict (id) do update set through = excluded.through",
                        dbname=info["db"],
                    )
                saved, bench.ROOT = bench.ROOT, Path(src).resolve().parent  # base_env puts ROOT/src first
                server = start("leadtrail", url, workdir, {"LEADTRAIL_EVENT_TTL": str(30 * 86400)}, totals=args.totals)
                try:
                    with Monitor(server.proc.pid, pg.proc.pid if pg.proc else None) as mon:
                        r = promote_latency(server, info["cookie"], args.promotes, client_events=200)
                finally:
                    server.stop()
                    bench.ROOT = saved
                r["cpu"] = {k: round(v, 1) for k, v in mon.cpu_shares(0).items()}
                # CPU per promote (server process, PostgreSQL): moved much less by other work on
                # the machine than the latency, which waits for whatever CPU is left.
                per = 1000 / bench.CLK / (args.promotes + 5)
                r["cpu_ms"] = {"server": round(mon.delta["server"] * per, 1), "pg": round(mon.delta["pg"] * per, 1)}
                r["load1"] = round(os.getloadavg()[0], 2)
                results[name].append(r)
                log(
                    f"round {rnd + 1} {name:8} p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
                    f"max {r['max_ms']:6.1f} ms  CPU/promote {r['cpu_ms']} ms  machine {r['cpu']}"
                )
    finally:
        pg.stop("fast")
    print()
    for name, runs in results.items():
        if not runs:
            continue
        p50s, p99s = [r["p50_ms"] for r in runs], [r["p99_ms"] for r in runs]
        others = [r["cpu"]["other"] for r in runs]
        server_ms = statistics.median(r["cpu_ms"]["server"] for r in runs)
        pg_ms = statistics.median(r["cpu_ms"]["pg"] for r in runs)
        print(
            f"{name:8} p50 median {statistics.median(p50s):5.1f} ms (range {min(p50s):.1f}-{max(p50s):.1f}), "
            f"p99 median {statistics.median(p99s):5.1f} ms (range {min(p99s):.1f}-{max(p99s):.1f}), "
            f"CPU per promote {server_ms:.1f} ms server + {pg_ms:.1f} ms PostgreSQL (medians), "
            f"CPU used by others {min(others):.0f}-{max(others):.0f}% of the machine"
        )
    out = args.state / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"raw: {out}")


if __name__ == "__main__":
    main()
