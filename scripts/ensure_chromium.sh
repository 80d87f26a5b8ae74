#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; Playwright's own browser download is not used.
# KASSA_CHROMIUM names another Chromium binary.
set -euo pipefail
if [ -n "${KASSA_CHROMIUM:-}" ]; then
  [ -x "$KASSA_CHROMIUM" ] && exit 0
  echo "KASSA_CHROMIUM=$KASSA_CHROMIUM is not an executable Chromium binary." >&2
  exit 1
fi
[ -x /usr/bin/chromium ] && exit 0
exec "$(dirname "$0")/apt_install.sh" chromium "for the browser tests"
