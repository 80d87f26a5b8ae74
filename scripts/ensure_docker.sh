#!/usr/bin/env bash
# A Docker engine and docker-compose for `make test-deploy`. An engine that already answers is
# used as it is. Otherwise, as root, Debian's docker.io is installed when missing and a daemon
# started for this run: no iptables rules and no IP forwarding (its containers reach only each
# other and this machine), overlay2 storage where the kernel and file system allow it, else vfs
# (slower: every layer a full copy, but it works anywhere). Its data lives in a folder of its
# own, KASSA_DOCKER_ROOT (default /var/lib/kassa-docker), never a system engine's, and stays
# there: the next run finds its images. Prints "started <pid>" for the caller to stop it.
set -euo pipefail
here=$(dirname "$0")

if ! docker-compose version >/dev/null 2>&1; then
    "$here/apt_install.sh" docker-compose "to run compose.yaml" >&2
fi
if docker info >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "No Docker engine answers. Start one (e.g. 'sudo systemctl start docker', after" \
        "'sudo apt-get install docker.io docker-compose'), or run as root." >&2
    exit 1
fi
command -v dockerd >/dev/null || "$here/apt_install.sh" docker.io "for the deployment test" >&2

root=${KASSA_DOCKER_ROOT:-/var/lib/kassa-docker}
log=/var/tmp/kassa-dockerd.log

# start DRIVER: dockerd in the background; 0 once it answers, 1 if it gave up.
start() {
    # Below the tests' own processes: image builds must not starve a shared machine.
    nice -n 10 dockerd --data-root="$root" --storage-driver="$1" --iptables=false \
        --ip-forward=false --pidfile=/var/run/kassa-dockerd.pid >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 120); do
        if docker info >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.5
    done
    kill "$pid"
    wait "$pid" || true
    return 1
}

for driver in overlay2 vfs; do
    if start "$driver"; then
        echo "Started a Docker engine ($driver storage, data in $root)." >&2
        echo "started $pid"
        exit 0
    fi
    echo "dockerd would not start with $driver storage:" >&2
    tail -5 "$log" >&2
done
exit 1
