#!/bin/sh
# The postgres stand-in's start: as root, hand the data folder to postgres and start again as
# postgres; on an empty data folder, create the cluster, its user and database from the
# environment; then run the server in the foreground.
set -eu

if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "postgres stand-in: POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    password_file=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
    initdb --username="$user" --pwfile="$password_file" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
    if [ "$database" != postgres ]; then
        # On the socket only while the database is made, so no client sees it half-made.
        pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait start >/dev/null
        psql --username="$user" --dbname=postgres --quiet --no-psqlrc \
            --command="CREATE DATABASE \"$database\" OWNER \"$user\""
        pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop >/dev/null
    fi
    echo "postgres stand-in: created the cluster, user $user and database $database"
fi
shift
exec postgres "$@"
