#!/usr/bin/env bash
# scripts/backup.sh [FOLDER]: one backup of the shop into FOLDER (default: backups/), stamped
# with the time in UTC: the database (pg_dump's custom format, DATABASE_URL), the uploaded
# images (MEDIA_ROOT, a tar), and the secrets (the .env file, KASSA_ENV_FILE). Keeps the newest
# KASSA_BACKUP_KEEP (default 14) of each. compose.yaml's `backup` service runs it every day;
# docs/operations.md says how to restore (scripts/restore.sh).
#
# The folder then holds the shop's secrets: everything is written readable by its owner only.
set -euo pipefail
folder=${1:-backups}
keep=${KASSA_BACKUP_KEEP:-14}
env_file=${KASSA_ENV_FILE:-.env}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
: "${DATABASE_URL:?DATABASE_URL names the database to back up (postgres://...)}"
case "$DATABASE_URL" in
    postgres://* | postgresql://*) ;;
    *) echo "backup.sh backs up PostgreSQL only; DATABASE_URL is not a postgres:// URL" >&2; exit 1 ;;
esac

umask 077
mkdir -p "$folder"

# Each file appears under its final name only once it is whole.
pg_dump --format=custom --file="$folder/kassa-$stamp.dump.partial" "$DATABASE_URL"
mv "$folder/kassa-$stamp.dump.partial" "$folder/kassa-$stamp.dump"
written="kassa-$stamp.dump"

if [ -n "${MEDIA_ROOT:-}" ] && [ -d "$MEDIA_ROOT" ]; then
    tar --create --gzip --file="$folder/media-$stamp.tar.gz.partial" --directory="$MEDIA_ROOT" .
    mv "$folder/media-$stamp.tar.gz.partial" "$folder/media-$stamp.tar.gz"
    written="$written media-$stamp.tar.gz"
fi

if [ -f "$env_file" ]; then
    cp "$env_file" "$folder/env-$stamp"
    written="$written env-$stamp"
fi

for kind in 'kassa-*.dump' 'media-*.tar.gz' 'env-*'; do
    # Names sort by their stamp: all but the newest $keep go.
    (cd "$folder" && ls -1 $kind 2>/dev/null | sort -r | tail -n +$((keep + 1)) | xargs -r rm -f)
done
echo "Backed up to $folder: $written"
