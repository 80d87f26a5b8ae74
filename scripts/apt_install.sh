#!/usr/bin/env bash
# apt_install.sh PACKAGE WHAT-FOR: install a Debian package when we are root with apt-get
# (CI, containers); otherwise say how and fail. The ensure_* scripts call it for what the
# project needs from the OS.
set -euo pipefail
package=$1
purpose=$2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing $package $purpose (apt-get install $package)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  exit 0
fi
echo "$package is needed $purpose: run 'sudo apt-get install $package'." >&2
exit 1
