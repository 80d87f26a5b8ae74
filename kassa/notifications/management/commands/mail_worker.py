"""manage.py mail_worker: the background worker (django-tasks' database worker) that sends
queued mail and delivers outgoing webhooks, plus what that worker does not do by itself: give
stalled mail and deliveries back to the queue (a worker killed mid-send, a task lost with it),
at start and every few minutes."""

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands import db_worker

from kassa.integrations.delivery import deliveries_requeue_stalled
from kassa.integrations.tasks import QUEUE as WEBHOOK_QUEUE
from kassa.notifications.services import mail_requeue_stalled

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 120.0


def _requeue_stalled() -> None:
    mail_requeue_stalled()
    deliveries_requeue_stalled(queue=WEBHOOK_QUEUE)


def _sweep_forever(stop: threading.Event) -> None:
    while not stop.wait(SWEEP_SECONDS):
        try:
            _requeue_stalled()
        except Exception:  # the database away for a moment: the next sweep tries again
            logger.exception("requeueing stalled mail and webhooks failed")
        finally:
            close_old_connections()


class Command(db_worker.Command):
    help = "Send queued mail, deliver webhooks (and run the shop's other background tasks)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name="mail,webhooks,default", reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        _requeue_stalled()
        close_old_connections()
        stop = threading.Event()
        if not options.get("batch"):
            threading.Thread(target=_sweep_forever, args=(stop,), daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
