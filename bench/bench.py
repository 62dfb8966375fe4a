#!/usr/bin/env python3
"""leadtrail benchmarks: ingest throughput and latency against a bare server and a one-INSERT
baseline measured in the same run, on PostgreSQL and SQLite; promote latency and ingest during a
prune at scale. Prints figures; asserts nothing; not part of `make test`.

    bench/run.sh [--quick] [--databases postgres,sqlite] [--parts ingest,scale] ...

What is measured, and how
- Load comes from a second process on loopback: wrk (bench/track.lua) when installed, else
  bench/loadgen.py. 64 connections, one page_view per request (so events/s = requests/s), an
  ordinary Chrome user agent, an anon_id cookie from a pool of 1,000 signed ids (returning
  visitors), event_ids unique to the run.
- Targets, each started fresh by this script on 127.0.0.1 with uvicorn (uvloop + httptools, no
  access log), one worker: (a) `leadtrail serve` (LEADTRAIL_RATE_LIMIT=0), (b) bench/bare_app.py,
  a bare ASGI app that reads the body and answers 204, (c) bench/one_insert_app.py, one INSERT and
  commit per request, and on PostgreSQL (d) bench/batch_prototype_app.py, a bare group-commit
  prototype without validation (the approach's ceiling; `--workers2` adds leadtrail with 2
  workers). Rounds alternate the targets so background load hits them alike; the figure is the
  median over rounds, the ratio is leadtrail / bare of those medians.
- Every leadtrail run writes into a fresh database; afterwards the stored rows are counted: wrk
  stops with requests in flight, so acked 204s <= rows <= requests sent. The exact check
  (rows == 204s) is a separate loadgen.py run, which waits for its last answers.
- Server RSS is the largest resident set of the server's process tree seen during the load.
  CPU shares (server, PostgreSQL, load generator, everything else) are from /proc: on a 2-core
  machine the load generator competes with the server, and other work on the machine shows up as
  "other".
- Scale (PostgreSQL: 10,000,000 expired rows plus one visitor's 2,000 fresh events interleaved
  among them, bulk-loaded with generate_series; SQLite: 500,000, say so): promote latency for
  that visitor, then ingest throughput without and with `leadtrail prune` deleting the expired rows.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from pgserver import PgServer, free_port  # noqa: E402

from leadtrail.identity import AnonIdSigner  # noqa: E402

PY = sys.executable
SECRET = "leadtrail-bench-secret-key-0123456789abcdef0123"
CHROME_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
CLK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# -- processes ---------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def tree_pids(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError):
            pass
    return total


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            pass
    return total


def system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Monitor:
    """Samples RSS of the server tree and CPU of server / PostgreSQL / load generator / rest.

    CPU is counted per process from the samples (every 0.2 s), so processes that start or exit
    during the window (PostgreSQL backends, uvicorn workers) count for what they used while seen.
    """

    def __init__(self, server_pid: int, pg_pid: int | None) -> None:
        self.server_pid, self.pg_pid = server_pid, pg_pid
        self.max_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._first: dict[str, dict[int, int]] = {"server": {}, "pg": {}}
        self._last: dict[str, dict[int, int]] = {"server": {}, "pg": {}}

    def _sample(self) -> None:
        for name, root in (("server", self.server_pid), ("pg", self.pg_pid)):
            if not root:
                continue
            for pid in tree_pids(root):
                ticks = cpu_ticks([pid])
                self._first[name].setdefault(pid, 0 if self._started else ticks)
                self._last[name][pid] = max(ticks, self._last[name].get(pid, 0))
        self.max_rss = max(self.max_rss, rss_bytes(tree_pids(self.server_pid)))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> Monitor:
        self._started = False
        self._sample()  # processes alive at the start count from here
        self._started = True
        self._sys_start = system_ticks()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        busy, total = system_ticks()
        self.delta = {
            name: sum(last - self._first[name][pid] for pid, last in self._last[name].items())
            for name in ("server", "pg")
        }
        self.delta["busy"] = busy - self._sys_start[0]
        self.delta["total"] = total - self._sys_start[1]

    def cpu_shares(self, loadgen_ticks: int) -> dict[str, float]:
        """Shares of the whole machine (100 = every core busy)."""
        d = self.delta
        total = d["total"] or 1
        shares = {
            "server": 100.0 * d["server"] / total,
            "pg": 100.0 * d["pg"] / total,
            "loadgen": 100.0 * loadgen_ticks / total,
        }
        shares["other"] = max(0.0, 100.0 * d["busy"] / total - sum(shares.values()))
        shares["idle"] = 100.0 - 100.0 * d["busy"] / total
        return shares


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    logfile: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: workers left behind
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADTRAIL_", "BENCH_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def leadtrail_env(**extra: str) -> dict[str, str]:
    env = base_env()
    env.update(LEADTRAIL_SECRET_KEY=SECRET, LEADTRAIL_RATE_LIMIT="0", LEADTRAIL_LOG_LEVEL="warning")
    env.update(extra)
    return env


def http_status(url: str, method: str = "GET", timeout: float = 1.0) -> int | None:
    parts = urlsplit(url)
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        conn.request(method, parts.path or "/")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def start(
    kind: str, database_url: str, workdir: Path, env_extra: dict[str, str] | None = None, workers: int = 1
) -> Server:
    port = free_port()
    if kind == "leadtrail":
        argv = [
            PY,
            "-m",
            "leadtrail",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--workers",
            str(workers),
        ]
        env = leadtrail_env(**(env_extra or {}))
        ready = f"http://127.0.0.1:{port}/healthz"
    else:
        module = {"bare": "bare_app", "one-insert": "one_insert_app", "prototype": "batch_prototype_app"}[kind]
        argv = [
            PY,
            "-m",
            "uvicorn",
            "--app-dir",
            str(BENCH),
            f"{module}:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-server-header",
        ]
        env = base_env()
        env["BENCH_DATABASE_URL"] = database_url
        ready = f"http://127.0.0.1:{port}/"
    logfile = workdir / f"{kind}-{port}.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(kind, proc, port, logfile)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}:\n{logfile.read_text()[-3000:]}")
        status = http_status(ready)
        if status is not None and (kind != "leadtrail" or status == 200):
            return server
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{kind} did not get ready:\n{logfile.read_text()[-3000:]}")
        time.sleep(0.1)


# -- load ----------------------------------------------------------------------------------------


@dataclass
class Load:
    requests: int  # answered
    ok: int  # answered 2xx
    sent: int
    errors: int  # socket errors + non-2xx
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str
    loadgen_ticks: int = 0

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def run_load(
    url: str, seconds: float, connections: int, prefix: str, cookiefile: Path, tool: str = "auto", threads: int = 1
) -> Load:
    use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk"))
    if use_wrk:
        argv = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(BENCH / "track.lua"),
            url + "/api/track",
            "--",
            prefix,
            str(cookiefile),
        ]
        marker = "WRKJSON "
    else:
        argv = [
            PY,
            str(BENCH / "loadgen.py"),
            url,
            "--connections",
            str(connections),
            "--duration",
            str(seconds),
            "--prefix",
            prefix,
            "--cookies",
            str(cookiefile),
        ]
        marker = "LOADJSON "
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ticks = 0
    while proc.poll() is None:  # keep the last CPU reading before the process is reaped
        ticks = max(ticks, cpu_ticks([proc.pid]))
        time.sleep(0.1)
    out, err = proc.communicate()
    line = next((ln for ln in out.splitlines() if ln.startswith(marker)), None)
    if line is None:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{out}\n{err}")
    r = json.loads(line[len(marker) :])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    ok = r["ok"] if "ok" in r else r["requests"] - r["status"]
    return Load(
        requests=r["requests"],
        ok=ok,
        sent=r["sent"],
        errors=errors,
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        tool="wrk" if use_wrk else "loadgen.py",
        loadgen_ticks=ticks,
    )


# -- databases -------------------------------------------------------------------------------------


class Databases:
    """Fresh databases for each run: PostgreSQL databases on the throwaway server, SQLite files."""

    def __init__(self, workdir: Path, pg: PgServer | None) -> None:
        self.workdir, self.pg = workdir, pg

    def fresh(self, dialect: str) -> str:
        if dialect == "postgres":
            assert self.pg is not None
            url = self.pg.create_database(f"b_{uuid.uuid4().hex[:12]}")
        else:
            url = f"sqlite:///{self.workdir}/b_{uuid.uuid4().hex[:12]}.db"
        r = subprocess.run(
            [PY, "-m", "leadtrail", "migrate", "--database-url", url],
            env=leadtrail_env(),
            capture_output=True,
            text=True,
        )
        if r.returncode:
            raise RuntimeError(f"migrate failed: {r.stdout}{r.stderr}")
        return url

    def count(self, url: str) -> int:
        if url.startswith("postgres"):
            assert self.pg is not None
            return int(self.pg.psql("select count(*) from session_events", dbname=url.rsplit("/", 1)[1]))
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            return conn.execute("select count(*) from session_events").fetchone()[0]

    def drop(self, url: str) -> None:
        if url.startswith("postgres"):
            assert self.pg is not None
            self.pg.drop_database(url.rsplit("/", 1)[1])
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)


def pg_pid(url: str, pg: PgServer | None) -> int | None:
    return pg.proc.pid if url.startswith("postgres") and pg and pg.proc else None


# -- ingest --------------------------------------------------------------------------------------------


@dataclass
class Run:
    target: str
    load: Load
    rss_mb: float
    cpu: dict[str, float]
    rows: int | None = None
    # CPU microseconds per answered request: server process tree, PostgreSQL, load generator. Less
    # moved by other work on the machine than the rate (which is what CPU is left over).
    us_per_request: dict[str, float] = field(default_factory=dict)


@dataclass
class IngestResult:
    dialect: str
    runs: list[Run] = field(default_factory=list)
    exact: dict | None = None

    def of(self, target: str) -> list[Run]:
        return [r for r in self.runs if r.target == target]


def one_run(target: str, dialect: str, dbs: Databases, args, cookiefile: Path, workdir: Path) -> Run:
    url = dbs.fresh(dialect) if target != "bare" else "sqlite:///unused"
    workers = 2 if target == "leadtrail-2w" else 1
    server = start("leadtrail" if workers > 1 else target, url, workdir, workers=workers)
    try:
        prefix = f"{target[:2]}{uuid.uuid4().hex[:10]}"
        run_load(
            server.url, args.warmup, args.connections, prefix + "w", cookiefile, tool=args.tool, threads=args.threads
        )
        time.sleep(0.5)  # the warm-up's requests left in flight commit before the count
        before = dbs.count(url) if target != "bare" else 0
        with Monitor(server.proc.pid, pg_pid(url, dbs.pg)) as mon:
            load = run_load(
                server.url, args.duration, args.connections, prefix, cookiefile, tool=args.tool, threads=args.threads
            )
        run = Run(target, load, mon.max_rss / 2**20, mon.cpu_shares(load.loadgen_ticks))
        if load.ok:
            run.us_per_request = {
                name: ticks / CLK / load.ok * 1e6
                for name, ticks in (
                    ("server", mon.delta["server"]),
                    ("pg", mon.delta["pg"]),
                    ("loadgen", load.loadgen_ticks),
                )
            }
        if target.startswith("leadtrail"):
            time.sleep(0.5)  # the requests wrk left in flight finish
            run.rows = dbs.count(url) - before
    finally:
        server.stop()
        if target != "bare":
            dbs.drop(url)
    return run


def exact_check(dialect: str, dbs: Databases, args, cookiefile: Path, workdir: Path) -> dict:
    """loadgen.py waits for its last answers, so 204s and stored rows must match exactly."""
    url = dbs.fresh(dialect)
    server = start("leadtrail", url, workdir)
    try:
        load = run_load(
            server.url, args.exact_seconds, args.connections, f"ex{uuid.uuid4().hex[:10]}", cookiefile, tool="loadgen"
        )
        rows = dbs.count(url)
    finally:
        server.stop()
        dbs.drop(url)
    return {"answered_2xx": load.ok, "errors": load.errors, "rows": rows, "match": rows == load.ok}


def ingest(dialect: str, dbs: Databases, args, cookiefile: Path, workdir: Path) -> IngestResult:
    result = IngestResult(dialect)
    targets = (
        ["bare", "leadtrail", "one-insert"]
        + (["prototype"] if dialect == "postgres" else [])
        + (["leadtrail-2w"] if args.workers2 else [])
    )
    if args.targets:
        targets = [t for t in targets if t in args.targets]
    for rnd in range(args.rounds):
        order = targets if rnd % 2 == 0 else list(reversed(targets))
        for target in order:
            run = one_run(target, dialect, dbs, args, cookiefile, workdir)
            result.runs.append(run)
            extra = ""
            if run.rows is not None:
                extra = f" rows={run.rows} (2xx={run.load.ok}, sent={run.load.sent})"
            log(
                f"  {dialect:8} round {rnd + 1} {target:10} {run.load.rate:9.0f} ev/s  p50 {run.load.p50_ms:6.2f} ms"
                f"  p99 {run.load.p99_ms:6.2f} ms  rss {run.rss_mb:5.1f} MB  errors {run.load.errors}"
                f"  cpu server {run.cpu['server']:.0f}% pg {run.cpu['pg']:.0f}% load {run.cpu['loadgen']:.0f}%"
                f" other {run.cpu['other']:.0f}% idle {run.cpu['idle']:.0f}%{extra}"
                + "  us/request "
                + " ".join(f"{k} {v:.0f}" for k, v in run.us_per_request.items())
            )
    if args.exact_seconds:
        result.exact = exact_check(dialect, dbs, args, cookiefile, workdir)
        log(f"  {dialect:8} exact check: {result.exact}")
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ingest_table(res: IngestResult) -> list[str]:
    bare = median([r.load.rate for r in res.of("bare")])
    one = median([r.load.rate for r in res.of("one-insert")])
    lines = [
        f"{'target':12} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8} {'vs 1-insert':>11}"
        f" {'RSS MB':>7} {'errors':>7}"
    ]
    for target in ("leadtrail", "bare", "one-insert", "prototype", "leadtrail-2w"):
        runs = res.of(target)
        if not runs:
            continue
        rate = median([r.load.rate for r in runs])
        lines.append(
            f"{target:12} {rate:10.0f} {median([r.load.p50_ms for r in runs]):8.2f}"
            f" {median([r.load.p99_ms for r in runs]):8.2f} {rate / bare:8.2f} {rate / one:11.2f}"
            f" {max(r.rss_mb for r in runs):7.1f} {sum(r.load.errors for r in runs):7d}"
        )
    lt = res.of("leadtrail")
    bares = res.of("bare")
    if lt and len(bares) == len(lt):
        # Each round's leadtrail over the same round's bare server (run next to each other): the
        # spread of these says how much the machine's background load moved the figures.
        ratios = [a.load.rate / b.load.rate for a, b in zip(lt, bares, strict=True) if b.load.rate]
        lines.append(
            f"leadtrail / bare per round: {', '.join(f'{r:.3f}' for r in ratios)}"
            f" -> median {median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})"
        )
    if lt and bares and lt[0].us_per_request and bares[0].us_per_request:
        us = {
            target: {k: median([r.us_per_request.get(k, 0.0) for r in runs]) for k in ("server", "pg", "loadgen")}
            for target, runs in (("leadtrail", lt), ("bare", bares))
        }
        lines.append(
            "CPU us per request, medians (server / PostgreSQL / load generator): "
            + "; ".join(f"{t} {v['server']:.0f} / {v['pg']:.0f} / {v['loadgen']:.0f}" for t, v in us.items())
            + f"; server-only ratio bare/leadtrail {us['bare']['server'] / us['leadtrail']['server']:.3f}"
        )
    counts = ", ".join(f"{r.load.ok} 2xx / {r.rows} rows / {r.load.sent} sent" for r in lt)
    lines.append(
        f"stored rows (wrk cuts requests in flight, so 2xx <= rows <= sent): {counts}"
        f" -> {'ok' if all(r.load.ok <= (r.rows or 0) <= r.load.sent for r in lt) else 'MISMATCH'}"
    )
    if res.exact:
        e = res.exact
        lines.append(
            f"exact check (loadgen.py, waits for every answer): {e['answered_2xx']} answered 2xx,"
            f" {e['rows']} rows stored, {e['errors']} errors -> {'equal' if e['match'] else 'MISMATCH'}"
        )
    cpu = {k: median([r.cpu[k] for r in lt]) for k in ("server", "pg", "loadgen", "other", "idle")}
    lines.append(
        "CPU during leadtrail runs (share of both cores): " + ", ".join(f"{k} {v:.0f}%" for k, v in cpu.items())
    )
    return lines


# -- scale: promote and prune ------------------------------------------------------------------------


def bulk_load_pg(pg: PgServer, rows: int, visitor: str) -> str:
    """`rows` expired events (created 24-48 h ago) and 2,000 fresh ones of `visitor` interleaved
    among them (every 5,001st row), loaded with generate_series; secondary indexes are built after
    the load, with the definitions the migrations made."""
    name = f"scale_{uuid.uuid4().hex[:8]}"
    url = pg.create_database(name)
    subprocess.run(
        [PY, "-m", "leadtrail", "migrate", "--database-url", url], env=leadtrail_env(), check=True, capture_output=True
    )
    found = pg.psql(
        "select indexname || '|' || indexdef from pg_indexes where tablename = 'session_events' "
        "and indexname <> 'session_events_pkey'",
        dbname=name,
    ).splitlines()
    indexes = [line.split("|", 1)[1] for line in found]
    for line in found:
        pg.psql(f"drop index {line.split('|', 1)[0]}", dbname=name)
    every = rows // 2000 + 1
    total = every * 2000
    pg.psql(
        f"""
        insert into session_events (anon_id, event_name, page_path, params, created_at)
        select case when i % {every} = 0 then '{visitor}' else 'b' || lpad((i % 400000)::text, 21, '0') end,
               case when i % 7 = 0 then 'page_engagement' else 'page_view' end,
               '/services/page-' || (i % 60),
               jsonb_build_object('title', 'Page ' || (i % 60), 'event_id', 'e' || i, 'client_ts', 1764200000000 + i),
               case when i % {every} = 0 then now() - interval '2 hours' + (i / {every}) * interval '1 second'
                    else now() - interval '48 hours' + i * (interval '24 hours' / {total}) end
        from generate_series(1, {total}) as i
    """,
        dbname=name,
    )
    for idx in indexes:
        pg.psql(idx, dbname=name)
    pg.psql("vacuum analyze session_events", dbname=name)
    pg.psql("checkpoint")  # the load's WAL is flushed now, not during the first measurement
    return url


def bulk_load_sqlite(path: Path, rows: int, visitor: str) -> str:
    url = f"sqlite:///{path}"
    subprocess.run(
        [PY, "-m", "leadtrail", "migrate", "--database-url", url], env=leadtrail_env(), check=True, capture_output=True
    )
    from datetime import datetime, timedelta

    every = rows // 2000 + 1
    total = every * 2000
    now = datetime.now(UTC)
    old = now - timedelta(hours=48)
    conn = sqlite3.connect(path, isolation_level=None)
    found = conn.execute(
        "select name, sql from sqlite_master where type = 'index' and tbl_name = 'session_events' and sql is not null"
    ).fetchall()
    indexes = [sql for _, sql in found]
    for name, _ in found:
        conn.execute(f"drop index {name}")

    def gen():
        for i in range(1, total + 1):
            if i % every == 0:
                anon, ts = visitor, now - timedelta(hours=2) + timedelta(seconds=i // every)
            else:
                anon, ts = f"b{i % 400000:021d}", old + timedelta(seconds=86400 * i / total)
            yield (
                anon,
                "page_engagement" if i % 7 == 0 else "page_view",
                f"/services/page-{i % 60}",
                json.dumps({"title": f"Page {i % 60}", "event_id": f"e{i}", "client_ts": 1764200000000 + i}),
                ts.isoformat(timespec="microseconds"),
            )

    conn.execute("begin")
    conn.executemany(
        "insert into session_events (anon_id, event_name, page_path, params, created_at) values (?, ?, ?, ?, ?)", gen()
    )
    conn.execute("commit")
    for sql in indexes:
        conn.execute(sql)
    conn.execute("analyze")
    conn.execute("pragma wal_checkpoint(truncate)")
    conn.close()
    return url


def promote_latency(server: Server, cookie: str, n: int, client_events: int) -> dict:
    events = [
        {
            "event_name": "page_view",
            "page_path": f"/services/page-{i % 60}",
            "params": {"title": f"Page {i % 60}"},
            "event_id": f"c{i}",
            "ts": 1764200000000 + i * 1000,
        }
        for i in range(client_events)
    ]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    times, counts = [], set()
    for i in range(n + 5):
        body = json.dumps(
            {
                "email": f"bench{i}-{uuid.uuid4().hex[:6]}@example.com",
                "client_events": events,
                "form": "booking",
                "consent": True,
            }
        )
        start_t = time.perf_counter()
        conn.request(
            "POST",
            "/api/track/promote",
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": CHROME_UA, "Cookie": f"anon_id={cookie}"},
        )
        resp = conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - start_t
        if resp.status not in (200, 201):
            raise RuntimeError(f"promote answered {resp.status}: {data[:300]!r}")
        counts.add(json.loads(data)["server_events"])
        if i >= 5:  # the first few warm caches and prepared statements
            times.append(elapsed * 1000)
    conn.close()
    times.sort()
    return {
        "n": n,
        "p50_ms": times[len(times) // 2],
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "max_ms": times[-1],
        "server_events": sorted(counts),
        "client_events": client_events,
    }


def scale(dialect: str, dbs: Databases, args, cookiefile: Path, workdir: Path) -> dict:
    rows = args.pg_rows if dialect == "postgres" else args.sqlite_rows
    signer = AnonIdSigner(SECRET)
    visitor, cookie = signer.mint()
    t0 = time.monotonic()
    log(f"  {dialect:8} loading {rows:,} expired rows + 2,000 fresh events of one visitor ...")
    if dialect == "postgres":
        assert dbs.pg is not None
        url = bulk_load_pg(dbs.pg, rows, visitor)
    else:
        url = bulk_load_sqlite(workdir / f"scale_{uuid.uuid4().hex[:8]}.db", rows, visitor)
    load_s = time.monotonic() - t0
    total = dbs.count(url)
    log(f"  {dialect:8} loaded {total:,} rows in {load_s:.0f} s")
    out: dict = {"rows": total, "expired": total - 2000, "load_seconds": load_s}
    # The server keeps its own prunes out of the way (a 30-day TTL: nothing is expired for it), so
    # the promote and the no-prune baseline measure what they say; `leadtrail prune` below runs
    # with the default 24 h TTL, for which the bulk rows are expired.
    server = start("leadtrail", url, workdir, {"LEADTRAIL_EVENT_TTL": str(30 * 86400)})
    try:
        out["promote"] = promote_latency(server, cookie, args.promotes, client_events=200)
        log(f"  {dialect:8} promote: {out['promote']}")
        prefix = f"sc{uuid.uuid4().hex[:8]}"
        run_load(
            server.url, args.warmup, args.connections, prefix + "w", cookiefile, tool=args.tool, threads=args.threads
        )
        with Monitor(server.proc.pid, pg_pid(url, dbs.pg)) as mon:
            base = run_load(
                server.url,
                args.prune_seconds,
                args.connections,
                prefix + "a",
                cookiefile,
                tool=args.tool,
                threads=args.threads,
            )
        out["without_prune"] = {
            "rate": base.rate,
            "p50_ms": base.p50_ms,
            "p99_ms": base.p99_ms,
            "errors": base.errors,
            "cpu": mon.cpu_shares(base.loadgen_ticks),
        }
        log(f"  {dialect:8} ingest without prune: {base.rate:.0f} ev/s p99 {base.p99_ms:.1f} ms")
        prune_log = workdir / f"prune-{prefix}.log"
        t_prune = time.monotonic()
        with open(prune_log, "wb") as plog:
            prune = subprocess.Popen(
                [PY, "-m", "leadtrail", "prune", "--database-url", url],
                env=leadtrail_env(),
                stdout=plog,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # Paired windows for as long as the prune runs: one with the prune deleting, the next with it
        # paused (SIGSTOP: its batch in flight finishes, no new one starts), so each "with" has a
        # "without" on the same database at the same size and moment. The database grows and its
        # caches and checkpoints change over minutes; a comparison with one window taken before
        # the prune would measure that drift too.
        windows = []
        stopped_s = 0.0

        def window(kind: str) -> dict:
            seconds = args.pair_seconds if kind == "on" else max(2, args.pair_seconds // 2)
            with Monitor(server.proc.pid, pg_pid(url, dbs.pg)) as mon:
                w = run_load(
                    server.url,
                    seconds,
                    args.connections,
                    prefix + f"{kind}{len(windows)}",
                    cookiefile,
                    tool=args.tool,
                    threads=args.threads,
                )
            return {
                "kind": kind,
                "rate": w.rate,
                "p50_ms": w.p50_ms,
                "p99_ms": w.p99_ms,
                "errors": w.errors,
                "cpu": mon.cpu_shares(w.loadgen_ticks),
                "prune_running_at_end": prune.poll() is None,
            }

        try:
            time.sleep(1.0)  # past its start-up, into the deleting
            while prune.poll() is None and time.monotonic() - t_prune < args.prune_timeout:
                on = window("on")
                if not on["prune_running_at_end"]:
                    break  # finished during the window: no pair
                if dialect == "sqlite":
                    # A stopped SQLite prune may hold the file's write lock (mid-batch), which stops
                    # every writer: no pausing there; compared with before and after instead.
                    windows.append(on)
                    log(
                        f"  {dialect:8} ingest with the prune deleting, window {len(windows)}: {on['rate']:.0f} ev/s"
                        f" p99 {on['p99_ms']:.1f} ms"
                    )
                    continue
                os.kill(prune.pid, signal.SIGSTOP)
                paused = time.monotonic()
                time.sleep(0.5)  # the batch in flight commits
                off = window("off")
                os.kill(prune.pid, signal.SIGCONT)
                stopped_s += time.monotonic() - paused
                windows += [on, off]
                log(
                    f"  {dialect:8} ingest with / without the prune, pair {len(windows) // 2}: {on['rate']:.0f} /"
                    f" {off['rate']:.0f} ev/s = {on['rate'] / max(off['rate'], 1e-9):.2f}"
                    f" (p99 {on['p99_ms']:.1f} / {off['p99_ms']:.1f} ms)"
                )
            prune.wait(max(1.0, args.prune_timeout - (time.monotonic() - t_prune)))
        except subprocess.TimeoutExpired:
            os.killpg(prune.pid, signal.SIGKILL)
            prune.wait()
        finally:
            if prune.poll() is None:
                os.kill(prune.pid, signal.SIGCONT)
        prune_s = time.monotonic() - t_prune
        out["prune"] = {
            "seconds": prune_s,
            "deleting_seconds": prune_s - stopped_s,
            "exit": prune.returncode,
            "output": prune_log.read_text().strip()[-300:],
        }
        # Right after: PostgreSQL's autovacuum now cleans up after the deleted rows.
        with Monitor(server.proc.pid, pg_pid(url, dbs.pg)) as mon:
            after = run_load(
                server.url,
                args.prune_seconds,
                args.connections,
                prefix + "c",
                cookiefile,
                tool=args.tool,
                threads=args.threads,
            )
        out["after_prune"] = {
            "rate": after.rate,
            "p50_ms": after.p50_ms,
            "p99_ms": after.p99_ms,
            "errors": after.errors,
            "cpu": mon.cpu_shares(after.loadgen_ticks),
        }
        log(f"  {dialect:8} ingest right after the prune: {after.rate:.0f} ev/s p99 {after.p99_ms:.1f} ms")
        ons = [w for w in windows if w["kind"] == "on"]
        offs = [w for w in windows if w["kind"] == "off"]
        if not offs:  # SQLite: the windows before and right after the prune stand in
            offs = [{"rate": base.rate}, {"rate": after.rate}]
            ratios = [a["rate"] / statistics.mean(w["rate"] for w in offs) for a in ons]
        else:
            ratios = [a["rate"] / b["rate"] for a, b in zip(ons, offs, strict=False) if b["rate"]]
        out["during_prune"] = {
            "windows": windows,
            "pairs": len(ratios),
            "rate": statistics.mean(w["rate"] for w in ons) if ons else float("nan"),
            "rate_paused": statistics.mean(w["rate"] for w in offs) if offs else float("nan"),
            "worst_ratio": min(ratios, default=float("nan")),
            "p99_ms": max((w["p99_ms"] for w in ons), default=float("nan")),
            "errors": sum(w["errors"] for w in windows),
            "paired": dialect != "sqlite",
        }
        out["ratio"] = out["during_prune"]["rate"] / out["during_prune"]["rate_paused"] if ons else float("nan")
        out["worst_ratio"] = out["during_prune"]["worst_ratio"]
        log(
            f"  {dialect:8} ingest with the prune deleting: {out['ratio']:.2f} of"
            f" {'the same minutes without it' if dialect != 'sqlite' else 'before and after it'}"
            f" (worst window {out['worst_ratio']:.2f}); prune took {prune_s:.0f} s ({prune_s - stopped_s:.0f} s"
            f" deleting): {out['prune']['output']}"
        )
        out["left"] = dbs.count(url)
    finally:
        server.stop()
        dbs.drop(url)
    return out


# -- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs, one round, 1M rows at scale (~4 min)")
    parser.add_argument("--databases", default="postgres,sqlite")
    parser.add_argument("--parts", default="ingest,scale")
    parser.add_argument("--duration", type=float, default=None, help="seconds of load per run")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--tool", choices=("auto", "wrk", "loadgen"), default="auto")
    parser.add_argument(
        "--workers2",
        action="store_true",
        help="also measure `leadtrail serve --workers 2` (reported as leadtrail-2w; the goals are for 1)",
    )
    parser.add_argument(
        "--targets",
        default="",
        help="ingest targets to run, comma-separated (bare, leadtrail, one-insert, prototype, leadtrail-2w);"
        " default all",
    )
    parser.add_argument("--no-exact", action="store_true", help="skip the exact-count check after the ingest rounds")
    parser.add_argument("--pg-rows", type=int, default=None)
    parser.add_argument("--sqlite-rows", type=int, default=None)
    args = parser.parse_args()
    args.duration = args.duration or (4 if args.quick else 8)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.warmup = 2
    args.exact_seconds = 0 if args.no_exact else 3
    args.targets = {t.strip() for t in args.targets.split(",") if t.strip()}
    args.pg_rows = args.pg_rows or (1_000_000 if args.quick else 10_000_000)
    args.sqlite_rows = args.sqlite_rows or (200_000 if args.quick else 500_000)
    # 300: with 100 the p99 is the single slowest request, one hiccup of a shared machine.
    args.promotes = 50 if args.quick else 300
    args.prune_seconds = 5 if args.quick else 15
    args.pair_seconds = 4 if args.quick else 6
    args.prune_timeout = 900
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    parts = {p.strip() for p in args.parts.split(",")}

    workdir = Path(tempfile.mkdtemp(prefix="leadtrail-bench-"))
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    signer = AnonIdSigner(SECRET)
    cookiefile = workdir / "cookies.txt"
    cookiefile.write_text("\n".join(signer.mint()[1] for _ in range(1000)) + "\n")
    tool = "wrk" if args.tool != "loadgen" and shutil.which("wrk") else "loadgen.py"
    log(
        f"leadtrail bench: {os.cpu_count()} CPUs, load generator {tool}, {args.connections} connections,"
        f" {args.duration:g} s x {args.rounds} round(s); work dir {workdir}"
    )
    pg = None
    started = time.monotonic()
    report: dict = {"args": vars(args), "tool": tool, "cpus": os.cpu_count(), "ingest": {}, "scale": {}}
    try:
        if "postgres" in databases:
            pg = PgServer()
            pg.initdb()
            pg.start()
            report["postgres_version"] = pg.psql("show server_version")
        dbs = Databases(workdir, pg)
        if "ingest" in parts:
            for dialect in databases:
                res = ingest(dialect, dbs, args, cookiefile, workdir)
                report["ingest"][dialect] = res
        if "scale" in parts:
            for dialect in databases:
                report["scale"][dialect] = scale(dialect, dbs, args, cookiefile, workdir)
    finally:
        if pg is not None:
            pg.destroy()
    report["seconds"] = time.monotonic() - started

    print()
    print(
        f"leadtrail bench ({'quick' if args.quick else 'full'}): {os.cpu_count()} CPUs shared by server, database"
        f" and load generator ({tool}, {args.connections} connections); one page_view per request;"
        f" median of {args.rounds} round(s) of {args.duration:g} s"
    )
    for dialect, res in report["ingest"].items():
        print(f"\n== ingest, {dialect}" + (f" {report.get('postgres_version', '')}" if dialect == "postgres" else ""))
        for line in ingest_table(res):
            print(line)
    for dialect, sc in report["scale"].items():
        print(
            f"\n== scale, {dialect}: {sc['rows']:,} rows ({sc['expired']:,} expired), "
            f"loaded in {sc['load_seconds']:.0f} s"
        )
        p = sc["promote"]
        print(
            f"promote, visitor with {p['server_events']} buffered events + {p['client_events']} client events:"
            f" p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, max {p['max_ms']:.1f} ms ({p['n']} sequential)"
        )
        a, b = sc["without_prune"], sc["during_prune"]
        if b.get("paired", True):
            how = (
                f"{b['pairs']} pairs of windows with it deleting ({args.pair_seconds:g} s) / paused"
                f" ({max(2, args.pair_seconds // 2):g} s)"
            )
        else:
            how = (
                f"{b['pairs']} windows of {args.pair_seconds:g} s with it deleting / the windows before and after"
                " (a paused SQLite prune may hold the write lock)"
            )
        print(
            f"ingest before the prune: {a['rate']:.0f} ev/s (p99 {a['p99_ms']:.1f} ms); during `leadtrail prune`,"
            f" {how}: {b['rate']:.0f} / {b['rate_paused']:.0f} ev/s = {sc['ratio']:.2f}"
            f" (worst window {sc['worst_ratio']:.2f}, p99 up to {b['p99_ms']:.1f} ms, {b['errors']} errors)"
        )
        print(
            f"prune took {sc['prune']['deleting_seconds']:.0f} s of deleting: {sc['prune']['output']};"
            f" rows left {sc['left']:,}"
        )
        c = sc["after_prune"]
        print(f"ingest right after the prune (autovacuum at work): {c['rate']:.0f} ev/s (p99 {c['p99_ms']:.1f} ms)")
    print(f"\nbench took {report['seconds']:.0f} s")

    def plain(o):
        if hasattr(o, "__dataclass_fields__"):
            return {k: plain(getattr(o, k)) for k in o.__dataclass_fields__}
        if isinstance(o, dict):
            return {k: plain(v) for k, v in o.items()}
        if isinstance(o, list):
            return [plain(v) for v in o]
        return o

    out = results_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(plain(report), indent=2, default=str))
    print(f"figures saved in {out.relative_to(ROOT)}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
