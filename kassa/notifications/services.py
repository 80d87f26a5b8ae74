"""The mail queue: each mail a row, made once per event, sent by the worker once.

Queueing happens inside the transaction of the change (the order's paid, shipped, refunded),
so a mail exists exactly when its cause does; the row's unique `key` makes racing deliveries of
one event make one mail. The worker then

    claims the row (queued → being sent, with a lease), commits,
    hands the message to the mail server,
    marks it sent, commits,

so a failure leaves the row queued for a retry with backoff, and a worker killed mid-send
leaves it "being sent" until its lease runs out and a worker sends it again. The one window in
which a mail can go twice is a kill between the server's "250 accepted" and the commit marking
it sent; the resend then carries the same Message-ID, which mail clients use to show one copy.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from kassa.metrics import instruments as metrics
from kassa.notifications import messages
from kassa.notifications.models import Mail

logger = logging.getLogger(__name__)


def mail_queue(
    *, key: str, kind: str, order_id: int | None, language: str, **context: object
) -> Mail | None:
    """Queue a mail for the event `key`, once: None if it was queued before. Call it inside the
    transaction of the change that causes it; the worker's task is queued in it too."""
    from kassa.notifications.tasks import deliver

    try:
        with transaction.atomic():
            mail = Mail.objects.create(
                key=key[:250],
                kind=kind,
                order_id=order_id,
                language=language or settings.LANGUAGE_CODE,
                context=context,
                next_attempt_at=timezone.now(),
            )
            deliver.enqueue(mail.pk)
    except IntegrityError:
        return None  # this event's mail exists already (a repeat, or a race it lost)
    logger.info("mail %s queued: %s", mail.pk, mail.key)
    transaction.on_commit(lambda: metrics.email_queued(kind=kind))
    return mail


def _backoff(attempts: int) -> timedelta:
    seconds = settings.MAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.MAIL_RETRY_MAX_SECONDS))


def _claim(mail_id: int) -> Mail | None:
    """Take the mail for sending if it is due and nobody is sending it (or its sender's lease
    ran out). One UPDATE: two workers with the same task cannot both win."""
    now = timezone.now()
    due = Q(state=Mail.State.QUEUED, next_attempt_at__lte=now) | Q(
        state=Mail.State.SENDING, lease_until__lt=now
    )
    lease = now + timedelta(seconds=settings.MAIL_SEND_LEASE_SECONDS)
    with transaction.atomic():
        taken = Mail.objects.filter(due, pk=mail_id).update(
            state=Mail.State.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
    return Mail.objects.select_related("order").get(pk=mail_id) if taken else None


def deliver(*, mail_id: int) -> str:
    """Send mail `mail_id` if it is due; what became of it ("sent", "retry", "failed", or
    "skipped" when it is not due, sent already or being sent by another worker)."""
    mail = _claim(mail_id)
    if mail is None:
        return "skipped"
    try:
        message = messages.build(mail)
        if not message.to:
            raise messages.NoRecipient("No address to send it to.")
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError, messages.NoRecipient) as exc:
        return _failed(mail, exc)
    except Exception as exc:  # a template or data fault: kept on the row, retried like the rest
        logger.exception("mail %s could not be built", mail.pk)
        return _failed(mail, exc)
    Mail.objects.filter(pk=mail.pk).update(
        state=Mail.State.SENT,
        sent_at=timezone.now(),
        lease_until=None,
        next_attempt_at=None,
        last_error="",
        recipients=", ".join(message.to),
        subject=str(message.subject)[:300],
    )
    logger.info("mail %s sent: %s", mail.pk, mail.key)
    metrics.email_sent(kind=mail.kind)
    return "sent"


def _failed(mail: Mail, exc: BaseException) -> str:
    from kassa.notifications.tasks import deliver as deliver_task

    error = f"{type(exc).__name__}: {exc}"[:2000]
    gave_up = mail.attempts >= settings.MAIL_MAX_ATTEMPTS
    when = timezone.now() + _backoff(mail.attempts)
    with transaction.atomic():
        Mail.objects.filter(pk=mail.pk).update(
            state=Mail.State.FAILED if gave_up else Mail.State.QUEUED,
            lease_until=None,
            next_attempt_at=None if gave_up else when,
            last_error=error,
        )
        if not gave_up:
            deliver_task.using(run_after=when).enqueue(mail.pk)
    metrics.email_failed(kind=mail.kind)
    logger.warning(
        "mail %s not sent (attempt %s): %s%s",
        mail.pk,
        mail.attempts,
        error,
        "; giving up" if gave_up else f"; again at {when:%H:%M:%S}",
    )
    return "failed" if gave_up else "retry"


def mail_retry(*, mail_ids: list[int]) -> int:
    """Staff send given-up or waiting mail again now; how many were queued."""
    from kassa.notifications.tasks import deliver as deliver_task

    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            Mail.objects.filter(
                pk__in=mail_ids, state__in=[Mail.State.QUEUED, Mail.State.FAILED]
            ).values_list("pk", flat=True)
        )
        Mail.objects.filter(pk__in=waiting).update(state=Mail.State.QUEUED, next_attempt_at=now)
        for pk in waiting:
            deliver_task.enqueue(pk)
    return len(waiting)


def mail_requeue_stalled() -> int:
    """Give the worker a task for each mail that is due but may have none: one whose worker
    was killed mid-send (lease over), or one due whose task was lost with its worker. A second
    task for a mail is harmless: only one claim of it succeeds."""
    from kassa.notifications.tasks import deliver as deliver_task

    now = timezone.now()
    stalled = Mail.objects.filter(
        Q(state=Mail.State.SENDING, lease_until__lt=now)
        | Q(state=Mail.State.QUEUED, next_attempt_at__lte=now - timedelta(minutes=1))
    ).values_list("pk", flat=True)
    count = 0
    with transaction.atomic():
        for pk in stalled:
            deliver_task.enqueue(pk)
            count += 1
    if count:
        logger.info("%s queued mail given to the worker again", count)
    return count
