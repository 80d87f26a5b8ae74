"""Signing in by a code sent by e-mail: no password to forget or leak.

A request makes one SignInCode row (a newer request for the address replaces the older) and
queues one mail, in one transaction: a 6-character code to type and a link to click. Both are
stored only as keyed hashes. Either works once, within CODE_MINUTES; MAX_TRIES wrong codes end
the row, and a new code must be asked for. The first sign-in of an address makes its account.

The answer to a request never says whether the address has an account: an unknown address gets
the same mail, which makes its account when used.
"""

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kassa.customers.addresses import addresses_from_orders
from kassa.customers.errors import SignInFailed
from kassa.customers.models import Customer, SignInCode
from kassa.notifications.models import Mail
from kassa.notifications.services import mail_queue

logger = logging.getLogger(__name__)

CODE_MINUTES = 10
MAX_TRIES = 5
CODE_LENGTH = 6
# Letters and digits a reader cannot mix up (no 0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def normalize_code(code: str) -> str:
    """What the customer typed, as the code was made: upper case, spaces and dashes dropped."""
    return "".join(code.split()).replace("-", "").upper()


def _hash(kind: str, value: str) -> str:
    return salted_hmac(f"kassa.customers.sign_in.{kind}", value, algorithm="sha256").hexdigest()


def sign_in_request(*, email: str, language: str, link: Callable[[str], str]) -> None:
    """Send `email` a code and a link (`link(token)` makes the link's absolute address)."""
    email = normalize_email(email)
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        SignInCode.objects.filter(email=email, used_at=None).delete()
        row = SignInCode.objects.create(
            email=email,
            code_hash=_hash("code", code),
            link_hash=_hash("link", token),
            expires_at=timezone.now() + timedelta(minutes=CODE_MINUTES),
        )
        mail_queue(
            key=f"sign-in:{row.pk}",
            kind=Mail.Kind.SIGN_IN,
            order_id=None,
            language=language,
            to=email,
            code=code,
            link=link(token),
            minutes=CODE_MINUTES,
        )
    logger.info("sign-in code %s requested", row.pk)


def _spent(row: SignInCode | None) -> bool:
    return (
        row is None
        or row.used_at is not None
        or row.expires_at <= timezone.now()
        or row.failed_tries >= MAX_TRIES
    )


def _need_new() -> SignInFailed:
    return SignInFailed(
        _("This code can no longer be used (it expired, was used, or was typed wrong too often). ")
        + _("Ask for a new one.")
    )


def sign_in_with_code(*, email: str, code: str) -> Customer:
    """The customer whose code this is (their account made on first sign-in); SignInFailed if
    the code is wrong, expired, used or tried too often."""
    try:
        # No code was sent to what is not an address (and a NUL is refused by PostgreSQL).
        validate_email(email.strip())
    except ValidationError:
        raise _need_new() from None
    with transaction.atomic():
        outcome = _try_code(email=normalize_email(email), code=normalize_code(code))
    # Raised after the commit: a wrong try is counted even though the answer is an error.
    if isinstance(outcome, SignInFailed):
        raise outcome
    return outcome


def _try_code(*, email: str, code: str) -> Customer | SignInFailed:
    row = (
        SignInCode.objects.select_for_update()
        .filter(email=email)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None or _spent(row):
        return _need_new()
    if not constant_time_compare(row.code_hash, _hash("code", code)):
        SignInCode.objects.filter(pk=row.pk).update(failed_tries=F("failed_tries") + 1)
        left = MAX_TRIES - row.failed_tries - 1
        if left <= 0:
            return _need_new()
        return SignInFailed(
            ngettext(
                "That code is not right. %(left)s more try, then a new code is needed.",
                "That code is not right. %(left)s more tries, then a new code is needed.",
                left,
            )
            % {"left": left}
        )
    return _use(row)


@transaction.atomic
def sign_in_with_link(*, token: str) -> Customer:
    row = SignInCode.objects.select_for_update().filter(link_hash=_hash("link", token)).first()
    if row is None or _spent(row):
        raise _need_new()
    return _use(row)


def _use(row: SignInCode) -> Customer:
    now = timezone.now()
    SignInCode.objects.filter(pk=row.pk).update(used_at=now)
    customer = customer_for_email(email=row.email)
    Customer.objects.filter(pk=customer.pk).update(last_sign_in_at=now)
    logger.info("customer %s signed in (code %s)", customer.pk, row.pk)
    return customer


def customer_for_email(*, email: str) -> Customer:
    """The account of `email`, made now if it has none (two first sign-ins at once make one)."""
    email = normalize_email(email)
    customer = Customer.objects.select_related("user").filter(email=email).first()
    if customer is not None:
        return customer
    try:
        with transaction.atomic():
            # The user's e-mail is what Checkout and the card page start with
            # (kassa.payments.buyer.known_email).
            user = get_user_model().objects.create_user(
                username=f"customer-{secrets.token_hex(8)}", email=email
            )
            customer = Customer.objects.create(user=user, email=email)
            addresses_from_orders(customer=customer)
            return customer
    except IntegrityError:
        return Customer.objects.select_related("user").get(email=email)
