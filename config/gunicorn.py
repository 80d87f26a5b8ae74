"""Gunicorn settings shared by `make run`, the container and the benchmark.

Threads, not processes, carry the concurrency: a Buy click spends most of its time waiting on
Stripe, and a waiting thread costs little memory.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = 60
graceful_timeout = 20
keepalive = 5
# No gunicornc control socket: nothing uses it, and its default path ($HOME/.gunicorn/gunicorn.ctl)
# would be shared by every gunicorn the same user starts (and is not writable in the container).
control_socket_disable = True
accesslog = "-"
# One line per request, without the query string (it may carry a Checkout Session id), with the
# request id the app put in the response (kassa.common.request_id), matching the app's own lines.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
