#!/usr/bin/env bash
# A Docker engine and docker-compose for `make test-deploy`. An engine that already answers is
# used as it is. Otherwise, as root, Debian's docker.io is installed when missing and a daemon
# started for this run: the vfs storage driver (works on any file system), no iptables rules
# and no IP forwarding (its containers reach only each other and this machine). Prints
# "started <pid>" when it started one, for stop_docker.sh; its images stay in /var/lib/docker,
# so base images built here are kept for the next run.
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

log=${KASSA_DOCKERD_LOG:-/var/tmp/kassa-dockerd.log}
# Below the tests' own processes: image builds must not starve a shared machine.
nice -n 10 dockerd --storage-driver=vfs --iptables=false --ip-forward=false \
    --pidfile=/var/run/kassa-dockerd.pid >"$log" 2>&1 &
pid=$!
for _ in $(seq 120); do
    if docker info >/dev/null 2>&1; then
        echo "started $pid"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "dockerd exited; its log ($log):" >&2
        tail -20 "$log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "dockerd did not answer within a minute; its log ($log):" >&2
tail -20 "$log" >&2
kill "$pid"
exit 1
