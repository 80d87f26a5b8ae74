"""Gunicorn settings shared by `make run`, the container and the benchmark.

Threads carry the concurrency: a Buy click spends most of its time waiting on Stripe, and a
waiting thread costs little memory. Processes carry the CPU work: Python runs one thread of a
process at a time, so only processes put every core to work on a Buy click's own code (its
queries, the Stripe client). Four processes of 16 threads measured best on two cores
(`make bench`, README "Performance").
"""

import os

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
