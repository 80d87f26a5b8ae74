#!/usr/bin/env bash
# `make test-deploy`: the production deployment run for real on this machine. A Docker engine
# (started here if none answers: ensure_docker.sh), the base images (pulled, or local stand-ins:
# docker/standins/), the shop's image built from the Dockerfile, then tests/system's `deploy`
# tests, which bring compose.yaml up with three web replicas and down again. Whatever the run
# leaves (containers, networks, volumes of its compose project, the engine it started) is
# removed at the end, also when a step fails; images stay, as the next run's cache.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_BUILDKIT=0
project=kassadeploy
began=$(date +%s)
started_engine=""
work=$(mktemp -d)

cleanup() {
    local status=$?
    if docker info >/dev/null 2>&1; then
        docker ps --all --quiet --filter "label=com.docker.compose.project=$project" \
            | xargs -r docker rm --force --volumes >/dev/null
        docker network ls --quiet --filter "label=com.docker.compose.project=$project" \
            | xargs -r docker network rm >/dev/null
        docker volume ls --quiet --filter "label=com.docker.compose.project=$project" \
            | xargs -r docker volume rm >/dev/null
        docker image prune --force >/dev/null
    fi
    if [ -n "$started_engine" ]; then
        kill "$started_engine" 2>/dev/null || true
        for _ in $(seq 60); do
            kill -0 "$started_engine" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$started_engine" 2>/dev/null || true
        echo "Stopped the Docker engine this run started."
    fi
    rm -rf "$work"
    echo "make test-deploy: $(($(date +%s) - began)) s in all."
    exit "$status"
}
trap cleanup EXIT

engine=$(scripts/ensure_docker.sh)
case "$engine" in started*) started_engine=${engine#started } ;; esac

docker/standins/build.sh

step=$(date +%s)
# The host's network for the build: pip reaches PyPI as the host does. Docker's own chatter (the
# legacy builder's notice) is shown only when the build fails.
if ! docker build --quiet --network host --tag kassa-web . >/dev/null 2>"$work/build.log"; then
    cat "$work/build.log" >&2
    exit 1
fi
echo "kassa-web: built from the Dockerfile ($(($(date +%s) - step)) s)."

# The containers' logs of the last run stay here after it, to read a failure by.
export KASSA_DEPLOY_LOG=/var/tmp/kassa-deploy-compose.log
KASSA_DEPLOY_REPORT=$work/report.json .venv/bin/pytest -p no:cacheprovider -m deploy tests/system "$@"
echo "What the deployment tests measured:"
cat "$work/report.json"
