"""A real, throwaway PostgreSQL server for the test run.

initdb into a fresh temp dir, run `postgres` in the foreground as our child, and
offer the operations fault tests need: stop (fast/immediate), kill -9, restart on
the same data dir and port. Never a mock, never a server that was already running.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_bindir() -> Path | None:
    """Highest installed Debian PostgreSQL version's bin dir, or None."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)
    return found[-1] if found else None


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process left in process group `pgid`?"""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ")".
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class PgServer:
    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; "
                "run scripts/install-test-deps.sh (or set LEADTRAIL_TEST_DATABASES=sqlite)"
            )
        # initdb and postgres refuse to run as root; drop to the `postgres` system user then.
        self.run_as = None
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root but there is no `postgres` user to run the server as; "
                    "install Debian's postgresql package (scripts/install-test-deps.sh)"
                ) from None
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="leadtrail-pg-"))
        self.datadir = self.base / "data"
        self.sockdir = self.base / "sock"
        self.logfile = self.base / "postgres.log"
        self.sockdir.mkdir()
        if self.run_as:
            for p in (self.base, self.sockdir):
                os.chown(p, self.run_as.pw_uid, self.run_as.pw_gid)
        self.proc: subprocess.Popen | None = None

    # -- running things as the server user ------------------------------------------------

    def _as_server_user(self, argv: list[str], *, pdeathsig: bool = False) -> list[str]:
        """Wrap argv in setpriv: switch user when root, and optionally ask the kernel to
        SIGINT (fast shutdown) the server if pytest itself dies without running finalizers.
        setpriv execs (no fork), so the Popen pid is the postmaster itself."""
        prefix = ["setpriv"]
        if self.run_as:
            prefix += [f"--reuid={self.run_as.pw_uid}", f"--regid={self.run_as.pw_gid}", "--clear-groups"]
        if pdeathsig:
            prefix += ["--pdeathsig=INT"]
        return prefix + ["--", *argv] if len(prefix) > 1 else argv

    def _env(self) -> dict:
        env = dict(os.environ, LC_ALL="C", LANG="C")
        if self.run_as:
            env["HOME"] = self.run_as.pw_dir
        return env

    def _log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no postgres log)"

    # -- lifecycle -------------------------------------------------------------------------

    def initdb(self) -> None:
        # -U postgres so the superuser name is the same whoever runs the tests;
        # --no-sync only skips initdb's final flush (the server itself keeps fsync=on).
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        ]
        r = subprocess.run(self._as_server_user(argv), env=self._env(), cwd=self.base, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart after stop/kill9) on the same data dir and port."""
        if self.running:
            return
        argv = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.datadir),
            "-p",
            str(self.port),
            "-k",
            str(self.sockdir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=on",  # durability stays on: fault tests kill -9 the server
            "-c",
            "synchronous_commit=on",
            "-c",
            "full_page_writes=on",
        ]
        log = open(self.logfile, "ab")
        try:
            # Own session/process group, so kill9() can take every backend down at once
            # and Ctrl-C in the terminal does not reach the server behind our back.
            # pdeathsig fires when the *thread* that forked exits, so only from the main thread.
            pdeathsig = threading.current_thread() is threading.main_thread()
            self.proc = subprocess.Popen(
                self._as_server_user(argv, pdeathsig=pdeathsig),
                env=self._env(),
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.proc.returncode}:\n{self._log_tail()}")
            if self._ready():
                return
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"postgres not ready after {timeout}s:\n{self._log_tail()}")

    def _ready(self) -> bool:
        r = subprocess.run(
            [
                str(self.bindir / "pg_isready"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-t",
                "1",
            ],
            env=os.environ,
        )
        return r.returncode == 0

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Clean shutdown: "fast" (SIGINT: roll back, checkpoint) or "immediate" (SIGQUIT:
        no checkpoint, crash recovery on next start). "smart" waits for clients to leave."""
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        if not self.running:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise RuntimeError(f"postgres did not stop ({mode}) within {timeout}s; killed") from None
        self._wait_group_gone()

    def kill9(self) -> None:
        """SIGKILL the postmaster and all its backends together, like a power cut to the
        process (not the OS: the page cache survives). Killing only the postmaster would
        leave backends attached to shared memory and block the restart."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._wait_group_gone()

    def _wait_group_gone(self, timeout: float = 10.0) -> None:
        # Backends are reparented away from us; wait until they have really exited so a
        # restart does not find the old shared memory still attached.
        deadline = time.monotonic() + timeout
        while _group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def destroy(self) -> None:
        """Stop the server (fast, then kill) and delete the data dir. Safe to call twice."""
        try:
            self.stop("fast", timeout=15)
        except Exception:
            self.kill9()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- client side -----------------------------------------------------------------------

    def dsn_for(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL with the psql next to the server binaries; returns unaligned output."""
        r = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                self.dsn_for(dbname),
                "-c",
                sql,
            ],
            env=dict(os.environ, PGCONNECT_TIMEOUT="10"),
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"psql failed ({r.returncode}) running {sql!r}:\n{r.stderr}")
        return r.stdout.strip()

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        # FORCE: a test that leaked a pool or connection must not block cleanup.
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
