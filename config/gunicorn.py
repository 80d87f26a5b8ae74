"""Gunicorn settings shared by `make run`, the container and the benchmark.

Threads carry the concurrency: a Buy click spends most of its time waiting on Stripe, and a
waiting thread costs little memory. Processes carry the CPU work: Python runs one thread of a
process at a time, so only processes put every core to work on a Buy click's own code (its
queries, the Stripe client). Four processes of 16 threads measured best on two cores
(`make bench`, docs/performance.md).
"""

import glob
import logging
import os
import shutil
import socket
import struct
import tempfile
from typing import Any

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# A worker takes only as many connections as it has threads; the next one waits in the listen
# queue for whichever worker frees a thread first. Without this one worker accepts every
# connection of a burst (or every kept-alive one) and queues them behind its own threads while
# the others idle: 64 Buy clicks then take two Stripe round trips instead of one.
worker_connections = threads
# Hence no keep-alive (a kept-alive connection would hold a worker's slot while idle): the
# TLS proxy in front opens a connection per request anyway, as nginx does by default.
keepalive = 0
timeout = 60
graceful_timeout = 20
# No gunicornc control socket: nothing uses it, and its default path ($HOME/.gunicorn/gunicorn.ctl)
# would be shared by every gunicorn the same user starts (and is not writable in the container).
control_socket_disable = True
accesslog = "-"
# One line per request, without the query string (it may carry a Checkout Session id), with the
# request id the app put in the response (kassa.common.request_id), matching the app's own lines.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# --- LOG_FORMAT=json: gunicorn's own lines as JSON too, like the app's -----------------------
if os.environ.get("LOG_FORMAT", "line").lower() == "json":
    logger_class = "kassa.common.json_logs.GunicornJsonLogger"

# --- Slow clients ----------------------------------------------------------------------------
# gthread gives a thread to a connection as soon as its first bytes arrive, then reads the rest
# of the request with no time limit: a client that sends half a request line keeps that thread,
# and a few dozen such clients take every thread of the server. A receive timeout on the
# listening sockets (accepted connections inherit it) bounds each read, so such a client holds
# its thread for at most this long, then gunicorn drops it (and lingers up to 2 s more on the
# worker's main loop closing it gracefully, which no setting changes). That bounds the harm, it
# does not stop it: clients opening new half-sent requests faster than this frees threads still
# starve the shop. The answer is the reverse proxy, which reads each request whole before passing it
# on (compose.yaml's `proxy`); gunicorn must never face the internet directly (docs/deploy.md).
# A request arriving through the proxy comes in one piece, so no honest client is near this.
CLIENT_READ_TIMEOUT_SECONDS = 5


def _receive_timeout(listener: socket.socket, seconds: float) -> None:
    whole = int(seconds)
    listener.setsockopt(
        socket.SOL_SOCKET,
        socket.SO_RCVTIMEO,
        struct.pack("ll", whole, int((seconds - whole) * 1_000_000)),
    )


class _DroppedSlowClient(logging.Filter):
    """gthread logs the timed-out read as "Socket error processing request." with a traceback;
    it is a client dropped on purpose, worth one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BlockingIOError):
            record.msg = "dropped a client that sent nothing for %ss in the middle of a request"
            record.args = (CLIENT_READ_TIMEOUT_SECONDS,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def post_worker_init(worker: Any) -> None:
    for listener in worker.sockets:
        _receive_timeout(listener.sock, CLIENT_READ_TIMEOUT_SECONDS)
    worker.log.error_log.addFilter(_DroppedSlowClient())


# --- Metrics: every worker's counts, summed at /metrics (kassa/metrics/) -----------------------
# prometheus-client's multiprocess mode: each worker writes its values to files in this folder,
# and /metrics reads them all. It must be chosen before any worker loads the app, so here, in
# the master, before the workers are forked. A folder given in the environment is emptied at
# start (values of a previous run are not this one's); without one, each master makes its own.
_made_metrics_folder = ""


def _metrics_folder() -> str:
    global _made_metrics_folder
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if not folder:
        _made_metrics_folder = tempfile.mkdtemp(prefix="kassa-metrics-")
        return _made_metrics_folder
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)
    return folder


def on_starting(server: Any) -> None:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_folder()


def child_exit(server: Any, worker: Any) -> None:
    # A dead worker's counters stay in the sum (they are the run's totals); only its live
    # gauges go.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _made_metrics_folder:
        shutil.rmtree(_made_metrics_folder, ignore_errors=True)
