#!/usr/bin/env bash
# The stand-ins' common root: a minimal Debian bookworm made by debootstrap from Debian's own
# packages and imported as kassa-standin-base:bookworm. Called by build.sh.
set -euo pipefail
docker=${DOCKER:-docker}
tag=$1
recipe=$2
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null \
    || "$(dirname "$0")/../../scripts/apt_install.sh" debootstrap "to build the stand-in base images"

root=$(mktemp -d /var/tmp/kassa-standin-root.XXXXXX)
# The image's / is this folder: readable by every user, not only by root as mktemp made it.
chmod 755 "$root"
# debootstrap mounts /proc and /sys inside the new root while it works: never remove through them.
cleanup() {
    findmnt --list --noheadings --output TARGET | { grep "^$root/" || true; } | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT
echo "Building $tag with debootstrap from $mirror (a few minutes, once per machine)..."
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
# No services start inside an image build, and apt keeps no caches or manual pages there.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/apt.conf.d/90standin" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT
cat >"$root/etc/dpkg/dpkg.cfg.d/90standin" <<'DPKG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
DPKG
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar --numeric-owner --one-file-system -C "$root" -c . \
    | "$docker" import --change "LABEL org.kassa.standin=$recipe" --change 'CMD ["bash"]' - "$tag" >/dev/null
echo "Built $tag."
