#!/usr/bin/env bash
# One command for the benchmarks (`make bench` calls this): prints figures, asserts nothing.
# Ingest and scale (bench.py), then validation cost (bench_ingest.py) and dashboard latency
# (bench_dashboard.py).
#   bench/run.sh            full run (~15 min): 3 rounds x 8 s per target, 10M rows at scale
#   bench/run.sh --quick    ~4 min: 1 round x 4 s, 1M rows at scale
#   bench/run.sh --help     every option (databases, parts, durations, rows)
# Needs: the project venv (make install-test), PostgreSQL server binaries (the bench starts its
# own throwaway server, like the tests), and wrk; wrk is installed from Debian when missing, and
# when that is not possible the bench falls back to its Python load generator (bench/loadgen.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PY" ]; then
  echo "no $PY: run 'make install-test' first" >&2
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  echo "wrk missing: installing it from Debian" >&2
  if ! { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 ||
         { $SUDO apt-get update -qq >/dev/null 2>&1 &&
           DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1; }; }; then
    echo "could not install wrk: using bench/loadgen.py (Python; it needs more CPU per request than wrk)" >&2
  fi
fi
"$PY" bench/bench.py "$@"
case " $* " in
  *" --help "*|*" -h "*) exit 0 ;;
esac
echo; echo "== ingest validation cost per event (bench/bench_ingest.py)"
"$PY" bench/bench_ingest.py
echo; echo "== dashboard latency at 100,000 journeys (bench/bench_dashboard.py)"
case " $* " in
  *" --quick "*) "$PY" bench/bench_dashboard.py --journeys 20000 --rounds 20 ;;
  *) "$PY" bench/bench_dashboard.py ;;
esac
