"""Sending one queued mail, the worker's side of the queue (kassa.notifications.services):

    claim the row (queued → being sent, with a lease), commit,
    hand the message to the mail server,
    mark it sent, commit,

so a failure leaves the row queued for a retry with backoff, and a worker killed mid-send
leaves it "being sent" until its lease runs out and a worker sends it again.
"""

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from kassa.metrics import instruments as metrics
from kassa.notifications import messages
from kassa.notifications.models import Mail

logger = logging.getLogger(__name__)

# A sign-in code and a gift card code are secrets (the subject never carries them).
SECRET_KINDS = {Mail.Kind.SIGN_IN, Mail.Kind.GIFT_CARD}

# Schedules another try of mail `pk` at `when` (the worker's task, kassa.notifications.tasks).
Retry = Callable[[int, datetime], object]


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


def send(*, mail_id: int, retry: Retry) -> str:
    """Send mail `mail_id` if it is due; what became of it ("sent", "retry", "failed", or
    "skipped" when it is not due, sent already or being sent by another worker). A mail to try
    again is handed to `retry` with its time, in the transaction that marks it so."""
    mail = _claim(mail_id)
    if mail is None:
        return "skipped"
    if not messages.still_wanted(mail):
        Mail.objects.filter(pk=mail.pk).update(
            state=Mail.State.CANCELLED, lease_until=None, next_attempt_at=None
        )
        logger.info("mail %s not needed any more: %s", mail.pk, mail.key)
        return "cancelled"
    try:
        message = messages.build(mail)
        if not message.to:
            raise messages.NoRecipient("No address to send it to.")
        with get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT) as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError, messages.NoRecipient) as exc:
        return _failed(mail, exc, retry=retry)
    except Exception as exc:  # a template or data fault: kept on the row, retried like the rest
        logger.exception("mail %s could not be built", mail.pk)
        return _failed(mail, exc, retry=retry)
    # A sign-in code is a secret: once sent, the row keeps that it went, not what it said.
    secret: dict[str, object] = {"context": {}} if mail.kind in SECRET_KINDS else {}
    Mail.objects.filter(pk=mail.pk).update(
        **secret,
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


def _failed(mail: Mail, exc: BaseException, *, retry: Retry) -> str:
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
            retry(mail.pk, when)
    metrics.email_failed(kind=mail.kind)
    logger.warning(
        "mail %s not sent (attempt %s): %s%s",
        mail.pk,
        mail.attempts,
        error,
        "; giving up" if gave_up else f"; again at {when:%H:%M:%S}",
    )
    return "failed" if gave_up else "retry"
