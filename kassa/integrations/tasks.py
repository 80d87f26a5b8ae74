"""The worker's task (django-tasks; the worker that sends mail, `manage.py mail_worker`, runs
the "webhooks" queue too)."""

from datetime import datetime

from django_tasks import task

from kassa.integrations import delivery


@task(queue_name="webhooks")
def deliver(delivery_id: int) -> str:
    return delivery.send(delivery_id=delivery_id, queue=QUEUE)


def _now(delivery_id: int) -> None:
    deliver.enqueue(delivery_id)


def _later(delivery_id: int, when: datetime) -> None:
    deliver.using(run_after=when).enqueue(delivery_id)


QUEUE = delivery.Queue(now=_now, later=_later)
