"""The mail queue: each mail a row, made once per event, sent by the worker once
(kassa.notifications.sending).

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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kassa.metrics import instruments as metrics
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.notifications.tasks import deliver

logger = logging.getLogger(__name__)


def mail_queue(
    *, key: str, kind: str, order_id: int | None, language: str, **context: object
) -> Mail | None:
    """Queue a mail for the event `key`, once: None if it was queued before. Call it inside the
    transaction of the change that causes it; the worker's task is queued in it too."""
    return _queue(key=key, kind=kind, order_id=order_id, language=language, context=context)


def mail_queue_later(
    *, due: datetime, key: str, kind: str, order_id: int | None, language: str, **context: object
) -> Mail | None:
    """As mail_queue, for a mail that is due only at `due` (its task runs then)."""
    return _queue(
        key=key, kind=kind, order_id=order_id, language=language, context=context, due=due
    )


def _queue(
    *,
    key: str,
    kind: str,
    order_id: int | None,
    language: str,
    context: dict[str, object],
    due: datetime | None = None,
) -> Mail | None:
    try:
        with transaction.atomic():
            mail = Mail.objects.create(
                key=key[:250],
                kind=kind,
                order_id=order_id,
                language=language or settings.LANGUAGE_CODE,
                context=context,
                next_attempt_at=due or timezone.now(),
            )
            (deliver.using(run_after=due) if due else deliver).enqueue(mail.pk)
    except IntegrityError:
        return None  # this event's mail exists already (a repeat, or a race it lost)
    logger.info("mail %s queued: %s", mail.pk, mail.key)
    transaction.on_commit(lambda: metrics.email_queued(kind=kind))
    return mail


def mail_retry(*, mail_ids: list[int]) -> int:
    """Staff send given-up or waiting mail again now; how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        waiting = list(
            Mail.objects.filter(
                pk__in=mail_ids, state__in=[Mail.State.QUEUED, Mail.State.FAILED]
            ).values_list("pk", flat=True)
        )
        Mail.objects.filter(pk__in=waiting).update(state=Mail.State.QUEUED, next_attempt_at=now)
        for pk in waiting:
            deliver.enqueue(pk)
    return len(waiting)


def mail_requeue_stalled() -> int:
    """Give the worker a task for each mail that is due but may have none: one whose worker
    was killed mid-send (lease over), or one due whose task was lost with its worker. A second
    task for a mail is harmless: only one claim of it succeeds."""
    now = timezone.now()
    stalled = Mail.objects.filter(
        Q(state=Mail.State.SENDING, lease_until__lt=now)
        | Q(state=Mail.State.QUEUED, next_attempt_at__lte=now - timedelta(minutes=1))
    ).values_list("pk", flat=True)
    count = 0
    with transaction.atomic():
        for pk in stalled:
            deliver.enqueue(pk)
            count += 1
    if count:
        logger.info("%s queued mail given to the worker again", count)
    return count


def recovery_opt_out(*, email: str) -> bool:
    """`email` wants no more reminders of unpaid checkouts: recorded, and any reminder still
    waiting for it is not sent. True if it was new."""
    with transaction.atomic():
        _, created = RecoveryOptOut.objects.get_or_create(email=email.strip().lower())
        Mail.objects.filter(
            kind=Mail.Kind.RECOVERY,
            state=Mail.State.QUEUED,
            order__recovery_email__iexact=email.strip(),
        ).update(state=Mail.State.CANCELLED, next_attempt_at=None)
    return created
