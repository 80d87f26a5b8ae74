#!/usr/bin/env bash
# scripts/restore.sh FOLDER STAMP: the backup backup.sh made at STAMP (e.g. 20261206T030000Z)
# back into an empty database (DATABASE_URL; create it first) and an empty or missing
# MEDIA_ROOT. The saved .env is copied to KASSA_ENV_FILE (default .env) only when there is none
# yet; otherwise it says where it is. docs/operations.md has the whole drill.
set -euo pipefail
folder=${1:?usage: restore.sh FOLDER STAMP}
stamp=${2:?usage: restore.sh FOLDER STAMP}
env_file=${KASSA_ENV_FILE:-.env}
dump="$folder/kassa-$stamp.dump"
: "${DATABASE_URL:?DATABASE_URL names the empty database to restore into (postgres://...)}"
[ -f "$dump" ] || { echo "No database backup $dump" >&2; exit 1; }

tables=$(psql --no-psqlrc --tuples-only --no-align --dbname="$DATABASE_URL" \
    --command="SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != 0 ]; then
    echo "The database already has $tables tables: restore into an empty one" \
        "(createdb, or DROP and CREATE it once you are sure)." >&2
    exit 1
fi
# One transaction: a restore that fails leaves the database as empty as it was.
pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname="$DATABASE_URL" "$dump"
echo "Restored the database from $dump."

media="$folder/media-$stamp.tar.gz"
if [ -f "$media" ]; then
    : "${MEDIA_ROOT:?MEDIA_ROOT names the folder the images go back to}"
    mkdir -p "$MEDIA_ROOT"
    if [ -n "$(ls -A "$MEDIA_ROOT")" ]; then
        echo "$MEDIA_ROOT is not empty: the images were not restored (from $media)." >&2
        exit 1
    fi
    tar --extract --gzip --file="$media" --directory="$MEDIA_ROOT"
    echo "Restored the images into $MEDIA_ROOT."
fi

saved="$folder/env-$stamp"
if [ -f "$saved" ]; then
    if [ -e "$env_file" ]; then
        echo "Left $env_file as it is; the backup's secrets are in $saved."
    else
        (umask 077 && cp "$saved" "$env_file")
        echo "Restored the secrets into $env_file."
    fi
fi
