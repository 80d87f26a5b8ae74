#!/usr/bin/env bash
# `make run`'s last step: gunicorn and the mail worker side by side. Ctrl-C (or SIGTERM) stops
# both, and if either one stops the other is stopped too, so nothing is left running unseen.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

$BIN/python manage.py mail_worker &
worker=$!
$BIN/gunicorn config.wsgi --config config/gunicorn.py &
web=$!

stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; }
trap stop INT TERM
wait -n "$web" "$worker"
status=$?
stop
wait
exit "$status"
