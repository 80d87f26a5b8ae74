#!/usr/bin/env bash
# `make bench` drives load with wrk (Debian's package): a C load generator whose own CPU use
# stays small next to the server it measures on the same machine.
set -euo pipefail
command -v wrk >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing wrk for the benchmark (apt-get install wrk)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  exit 0
fi
echo "make bench needs wrk: run 'sudo apt-get install wrk' (or install it from your OS's packages)." >&2
exit 1
