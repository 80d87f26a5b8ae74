#!/usr/bin/env bash
# Validate compose.yaml the way Docker Compose reads it (`config`), without a Docker engine:
# the compose v2 plugin if the docker CLI has it, else Debian's docker-compose (installed here
# when missing and we are root, like Chromium for the browser tests); and the proxy's
# docker/nginx.conf the way nginx reads it (`nginx -t`, Debian's nginx).
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null; then
    scripts/apt_install.sh docker-compose "to validate compose.yaml"
  fi
  compose=(docker-compose)
fi

# compose.yaml reads .env (env_file and interpolation); check it with the documented example.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp compose.yaml "$work/compose.yaml"
cp .env.example "$work/.env"
(cd "$work" && "${compose[@]}" --file compose.yaml config --quiet)
echo "compose.yaml is valid (${compose[*]} config)."

command -v nginx >/dev/null || scripts/apt_install.sh nginx "to check docker/nginx.conf"
cp docker/nginx.conf "$work/nginx.conf"
nginx -q -t -p "$work" -c "$work/nginx.conf"
echo "docker/nginx.conf is valid (nginx -t, $(nginx -v 2>&1 | sed 's/.*version: //'))."
