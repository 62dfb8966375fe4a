"""The built wheel is complete: installed on its own (not the working tree), it serves the
dashboard, the tracker and the demo site, and it carries every non-Python file under
src/leadtrail (templates, static files, SQL)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from browser import CHROME_UA
from pgserver import free_port

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "leadtrail"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel` builds from a copy of the working tree (a copy: setuptools writes
    build/ and *.egg-info next to the sources). No network: this venv's setuptools builds it
    (the test extra asks for one that has bdist_wheel built in)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
    done = subprocess.run([*argv, "--wheel-dir", str(out), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("leadtrail-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a directory of its own; its dependencies come from this venv."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _env(target: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADTRAIL_") and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), PYTHONUNBUFFERED="1")
    return env


def test_the_wheel_carries_every_non_python_file_of_the_package(wheel):
    """Every template, static file and SQL file under src/leadtrail is in the wheel, in new
    subfolders too."""
    expected = {
        "leadtrail/" + p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    assert any(name.endswith(".sql") for name in expected)  # the walk found the data at all
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert sorted(expected - names) == []


def test_the_installed_package_is_imported_from_its_own_directory(installed):
    """With PYTHONPATH at the install directory, `import leadtrail` finds the wheel's copy, not the
    working tree the editable install points at."""
    out = subprocess.run(
        [sys.executable, "-c", "import leadtrail; print(leadtrail.__file__)"],
        env=_env(installed),
        cwd=installed,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(out).resolve().is_relative_to(installed.resolve())


def _get(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": CHROME_UA})
    try:
        with opener.open(request, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_the_installed_wheel_serves_the_dashboard_the_tracker_and_the_demo(installed, tmp_path):
    """`leadtrail serve --demo` from the installed wheel answers the sign-in page, the tracker
    script, the demo site and their static files."""
    script = installed / "bin" / "leadtrail"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "leadtrail"]
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*argv, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            env=_env(installed) | {"LEADTRAIL_DATABASE_URL": f"sqlite:///{tmp_path}/leadtrail.db"},
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)

        status, body = _get(base + "/cp/login")
        assert status == 200 and b"<form" in body
        status, body = _get(base + "/api/track/script.js")
        assert status == 200 and b"leadtrail" in body
        status, body = _get(base + "/demo/")
        assert status == 200
        # Every stylesheet, script and image the pages link to is served (the static folders).
        assets = set()
        for page in ("/cp/login", "/demo/"):
            html = _get(base + page)[1].decode()
            assets |= {urllib.parse.urljoin(page, m) for m in re.findall(r'(?:href|src)="(/[^"]+)"', html)}
        static = {a for a in assets if a.startswith(("/cp/static/", "/demo/static/"))}
        assert any(a.startswith("/cp/static/") for a in static) and any(a.startswith("/demo/static/") for a in static)
        for asset in sorted(static):
            status, body = _get(base + asset)
            assert (status, bool(body)) == (200, True), asset
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "leadtrail.db" in os.listdir(tmp_path)
