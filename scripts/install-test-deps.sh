#!/usr/bin/env bash
# Installs what the test suite needs from Debian's packages when it is missing:
# PostgreSQL server binaries (the tests start their own server with initdb; the package's
# own cluster is not used), Chromium (Playwright drives /usr/bin/chromium) and wrk (bench).
# Works as root or through sudo on Debian 12; does nothing when everything is present.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# fonts-liberation is only a Recommends of chromium: without it pages render in whatever
# fallback font happens to exist, and screenshots differ between machines.
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-liberation)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# As root the tests run PostgreSQL as the `postgres` user (initdb refuses root); the
# postgresql package creates it, but binaries copied in some other way would not.
if [ "$(id -u)" -eq 0 ] && ! getent passwd postgres >/dev/null; then
  need+=(postgresql)
fi
[ ${#need[@]} -gt 0 ] || exit 0

echo "installing from Debian: ${need[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "not root and no sudo: as root, run: apt-get install --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi
# `env` rather than export: sudo's env_reset would drop an exported DEBIAN_FRONTEND and
# tzdata/postgresql-common would then stop to ask questions.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
