#!/usr/bin/env bash
# The browser tests drive Debian's Chromium; Playwright's own browser download is not used.
# KASSA_CHROMIUM names another Chromium binary.
set -euo pipefail
CHROMIUM=${KASSA_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
exec "$(dirname "$0")/apt_install.sh" chromium "for the browser tests"
