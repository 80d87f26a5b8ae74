#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; Playwright's own browser download is not used.
set -euo pipefail
CHROMIUM=${KASSA_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need Chromium at $CHROMIUM: run 'sudo apt-get install chromium'" >&2
echo "(or set KASSA_CHROMIUM to another Chromium binary)." >&2
exit 1
