#!/usr/bin/env bash
# Regenerates src/leadtrail/static/tracker.min.js from the readable tracker.js with terser
# (installed from the npm registry into a cache folder, pinned), and records the source's SHA-256
# in tracker.min.js.sha256. The server serves the minified copy only while that hash matches the
# source, and tests/test_tracker_size.py fails when it does not: run this after editing tracker.js
# and commit both files.
set -euo pipefail
TERSER_VERSION=5.46.0
here="$(cd "$(dirname "$0")/.." && pwd)"
static="$here/src/leadtrail/static"
cache="${LEADTRAIL_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/leadtrail-terser-$TERSER_VERSION}"
if [ ! -x "$cache/node_modules/.bin/terser" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --no-save "terser@$TERSER_VERSION" >/dev/null
fi
"$cache/node_modules/.bin/terser" "$static/tracker.js" \
  --ecma 2020 --compress passes=3,unsafe_arrows=true,ecma=2020 --mangle --comments false \
  --output "$static/tracker.min.js"
sha256sum "$static/tracker.js" | cut -d' ' -f1 > "$static/tracker.min.js.sha256"
python3 - "$static/tracker.min.js" <<'PY'
import gzip, sys
data = open(sys.argv[1], "rb").read()
print(f"tracker.min.js: {len(data)} bytes, {len(gzip.compress(data, 9, mtime=0))} gzipped (budget 2560)")
PY
