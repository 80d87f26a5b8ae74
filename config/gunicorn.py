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
accesslog = "-"
# One line per request, without the query string (it may carry a Checkout Session id).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
