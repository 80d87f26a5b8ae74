"""The worker's tasks (django-tasks; `manage.py mail_worker` runs them)."""

from datetime import datetime

from django_tasks import task

from kassa.notifications import sending


@task(queue_name="mail")
def deliver(mail_id: int) -> str:
    return sending.send(mail_id=mail_id, retry=retry)


def retry(mail_id: int, when: datetime) -> None:
    """Try mail `mail_id` again at `when`."""
    deliver.using(run_after=when).enqueue(mail_id)
