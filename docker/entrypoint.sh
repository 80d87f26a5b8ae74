#!/bin/sh
# The container's start script: check the settings, wait for the database, migrate, create the
# admin, then replace itself with the app server (exec: SIGTERM from `docker stop` reaches
# gunicorn, which finishes the requests in flight). With arguments, runs those instead of
# gunicorn after the same steps, e.g. `docker compose run --rm web python manage.py shell`.
#
# An ordinary POSIX script: CI runs it on the host against PostgreSQL (tests/test_entrypoint.py).
# It reads the environment only; compose passes .env in through `env_file`.
set -eu
cd "$(dirname "$0")/.."

fail() {
    echo "kassa: $*" >&2
    exit 78 # EX_CONFIG
}

# The same words django-environ reads as true.
is_true() {
    case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
        true | on | ok | y | yes | 1) return 0 ;;
        *) return 1 ;;
    esac
}

if ! is_true "${DJANGO_DEBUG:-false}"; then
    [ -n "${DJANGO_SECRET_KEY:-}" ] || fail "DJANGO_SECRET_KEY is not set. Put a long random \
value in .env, e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    [ -n "${ALLOWED_HOSTS:-}" ] || fail "ALLOWED_HOSTS is not set. Put the host names the shop \
answers to in .env, comma-separated, e.g. ALLOWED_HOSTS=shop.example.com (or localhost,127.0.0.1)"
fi

python manage.py wait_for_db --timeout "${DATABASE_WAIT_SECONDS:-60}"
# Migrations, then the admin if missing, one replica at a time: replicas that start together
# wait for each other, and the migrations are applied once.
python manage.py migrate_locked
# The admin's "Owner" and "Staff" groups, if missing (the Staff group as the owner left it).
python manage.py ensure_groups

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec gunicorn config.wsgi --config config/gunicorn.py
