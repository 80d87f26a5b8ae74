"""The worker's tasks (django-tasks; `manage.py mail_worker` runs them)."""

from django_tasks import task

from kassa.notifications import services


@task(queue_name="mail")
def deliver(mail_id: int) -> str:
    return services.deliver(mail_id=mail_id)
