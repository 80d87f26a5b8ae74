#!/usr/bin/env bash
# The base images compose.yaml and the Dockerfile name, on this Docker engine: each one already
# here is kept (a real one, or a stand-in built from this folder's current recipe); a missing
# one is pulled where a registry answers, and built here as a stand-in where none does
# (README.md beside this file). Builds run on the host's network: the engine `make test-deploy`
# starts gives its containers no route out, and apt needs Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")"
docker=${DOCKER:-docker}
export DOCKER_BUILDKIT=0

# The build context: this folder, and the certificate authorities this machine trusts beyond
# Debian's own (a TLS-inspecting proxy's), so pip in the python stand-in reaches PyPI as the
# host does.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp ./*.Dockerfile ./*-entrypoint.sh "$context/"
mkdir "$context/local-ca"
find /etc/ssl/certs -maxdepth 1 -type f -name '*.pem' -exec cp {} "$context/local-ca/" \;
find /usr/local/share/ca-certificates -type f -name '*.crt' -exec cp {} "$context/local-ca/" \; 2>/dev/null || true
for pem in "$context"/local-ca/*.pem; do
    [ -e "$pem" ] && mv "$pem" "${pem%.pem}.crt"
done

fingerprint() { cat "$@" | sha256sum | cut -c1-16; }
base=kassa-standin-base:bookworm
base_recipe=$(fingerprint base.sh)

label_of() {
    "$docker" image inspect --format '{{ index .Config.Labels "org.kassa.standin" }}' "$1" 2>/dev/null
}

for pair in python:3.11-slim=python postgres:17=postgres redis:7.4=redis nginx:1.28=nginx; do
    image=${pair%=*}
    kind=${pair#*=}
    # A stand-in built from other files (or on another base, or trusting other authorities) is
    # built again.
    recipe=$(fingerprint base.sh "$kind.Dockerfile" $(ls "$kind"-entrypoint.sh 2>/dev/null) \
        $(if [ "$kind" = python ]; then ls "$context"/local-ca/* 2>/dev/null; fi) /dev/null)
    if label=$(label_of "$image"); then
        # A real image has no such label; a stand-in of this recipe is current.
        if [ "$label" = "<no value>" ] || [ -z "$label" ] || [ "$label" = "$recipe" ]; then
            echo "$image: present."
            continue
        fi
        echo "$image: a stand-in of another recipe; building it again."
    elif timeout "${KASSA_PULL_SECONDS:-60}" "$docker" pull --quiet "$image" >/dev/null 2>&1; then
        echo "$image: pulled."
        continue
    else
        echo "$image: no registry answers; building a local stand-in (docker/standins/README.md)."
    fi
    if [ "$(label_of "$base" || true)" != "$base_recipe" ]; then
        ./base.sh "$base" "$base_recipe"
    fi
    started=$(date +%s)
    # Docker's own chatter (the legacy builder's notice) is shown only when a build fails.
    if ! "$docker" build --quiet --network host --label "org.kassa.standin=$recipe" \
        --file "$context/$kind.Dockerfile" --tag "$image" "$context" >/dev/null 2>"$context/log"; then
        cat "$context/log" >&2
        exit 1
    fi
    echo "$image: built a stand-in ($(($(date +%s) - started)) s)."
done
# Layers of stand-ins replaced above.
"$docker" image prune --force >/dev/null
