#!/usr/bin/env bash
# Install (if missing) headless Chromium from Debian's packages: the public site's PDF data cards are
# printed by it, and the browser tests drive it through Playwright (pointed at this binary; Playwright's
# own browser download does not work offline). Idempotent. Used by `make demo`, `make site`, `make test`.
set -euo pipefail
BROWSER="${ALT911_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$BROWSER" ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "Chromium is not installed and this is not root: install the Debian package 'chromium'" \
         "or set ALT911_CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
  echo "installing Chromium (Debian package)..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
"$BROWSER" --version
