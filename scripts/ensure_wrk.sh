#!/usr/bin/env bash
# `make bench` drives load with wrk (Debian's package): a C load generator whose own CPU use
# stays small next to the server it measures on the same machine.
set -euo pipefail
command -v wrk >/dev/null && exit 0
exec "$(dirname "$0")/apt_install.sh" wrk "for the benchmark"
