#!/bin/sh
# The redis stand-in's start: redis-server as the redis user, reachable from the network when
# it is given no configuration file (what the official image's entrypoint does).
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    case "${1:-}" in
        *.conf) ;;
        *) set -- --protected-mode no "$@" ;;
    esac
    exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$@"
fi
exec "$@"
