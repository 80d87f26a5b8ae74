"""A queued mail as the message it is: subject, plain text and HTML, in the customer's language."""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from kassa.common.identity import identity
from kassa.common.money import format_amount, from_minor
from kassa.invoices.models import Invoice
from kassa.invoices.selectors import document_pdf, invoice_for
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.orders.links import order_link, recovery_token, shop_url
from kassa.orders.models import Order
from kassa.orders.pricing import Totals, order_totals

Kind = Mail.Kind
_STAFF = {Kind.STAFF_NEW_ORDER, Kind.STAFF_NOTICE}
_SAYS_WHAT_WAS_REFUNDED = {Kind.REFUND, Kind.RETURN_APPROVED}
# Mail to an address rather than to an order's buyer (a sign-in code, a gift card for someone
# else): the address is `to`.
_ADDRESSED = {Kind.SIGN_IN, Kind.GIFT_CARD}


class NoRecipient(Exception):
    """Nobody to send it to (no e-mail on the order, no staff addresses)."""


def still_wanted(mail: Mail) -> bool:
    """Whether a mail due now should still go: an unpaid checkout's reminder only while its
    order waits, unpaid, as a cart (not paid in another tab or through another attempt, not
    being paid now) and its address has not opted out."""
    if mail.kind != Kind.RECOVERY:
        return True
    order = mail.order
    if order is None or order.is_paid or order.status != Order.Status.OPEN:
        return False
    if not order.lines.exists():
        return False
    return not RecoveryOptOut.objects.filter(email=order.recovery_email.lower()).exists()


def _recipients(mail: Mail) -> list[str]:
    if mail.kind in _STAFF:
        return list(settings.SHOP_STAFF_EMAILS)
    if mail.kind == Kind.RECOVERY:
        return [mail.order.recovery_email] if mail.order and mail.order.recovery_email else []
    if mail.kind in _ADDRESSED:
        return [str(mail.context["to"])] if mail.context.get("to") else []
    return [mail.order.email] if mail.order and mail.order.email else []


def _message_id(mail: Mail) -> str:
    """The same for every attempt at this mail: a resend after a crash is the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "kassa.local"
    return f"<kassa-mail-{mail.pk}.{int(mail.created_at.timestamp())}@{domain}>"


def recovery_link(order: Order, *, unsubscribe: bool = False) -> str:
    name = "orders:recover-unsubscribe" if unsubscribe else "orders:recover"
    return shop_url(reverse(name, args=[recovery_token(order)]))


def _order_context(order: Order, language: str) -> dict[str, object]:
    totals = order_totals(order, list(order.lines.select_related("item")))  # names each item

    def money(minor: int) -> str:
        return format_amount(from_minor(minor, order.currency), order.currency, language)

    return {
        "order": order,
        "lines": [
            {
                "name": line.line.item.name,
                "quantity": line.line.quantity,
                "amount": money(line.amount),
            }
            for line in totals.lines
        ],
        "subtotal": money(totals.subtotal),
        "discount": money(totals.discount) if totals.discount else "",
        **_tax(order, totals, money),
        "shipping": money(totals.shipping),
        "total": money(order.amount_paid if order.amount_paid is not None else totals.total),
        "address": order.shipping_address_lines,
        "link": order_link(order),
        "recover_link": "" if order.is_paid else recovery_link(order),
        "unsubscribe_link": "" if order.is_paid else recovery_link(order, unsubscribe=True),
        "admin_link": shop_url(reverse("admin:orders_order_change", args=[order.pk])),
    }


def _tax(order: Order, totals: Totals, money: Callable[[int], str]) -> dict[str, object]:
    """The tax line: what Stripe Tax computed for the payment, or the staff's rate."""
    if order.tax_computed_by_stripe:
        amount, inclusive = order.tax_amount, order.tax_inclusive
    else:
        amount, inclusive = totals.tax, totals.tax_inclusive
    return {"tax": money(amount) if amount else "", "tax_inclusive": inclusive}


def build(mail: Mail) -> EmailMultiAlternatives:
    language = settings.LANGUAGE_CODE if mail.kind in _STAFF else mail.language
    document = _document(mail)
    shop = identity()
    logo = shop.logo_url if "://" in shop.logo_url or not shop.logo_url else shop_url(shop.logo_url)
    with (
        translation.override(language or settings.LANGUAGE_CODE),
        timezone.override(shop.time_zone),
    ):
        context: dict[str, object] = {
            "mail": mail,
            "shop": shop,
            "shop_logo": logo,
            **mail.context,
            "document": document,
        }
        if mail.order is not None:
            context.update(_order_context(mail.order, language))
            if mail.kind in _SAYS_WHAT_WAS_REFUNDED:
                refunded = int(mail.context.get("amount_refunded", 0))
                context["refunded"] = format_amount(
                    from_minor(refunded, mail.order.currency), mail.order.currency, language
                )
        template = f"notifications/email/{mail.kind}"
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        text += render_to_string("notifications/email/_signature.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=shop.from_email,
        to=_recipients(mail),
        headers={"Message-ID": _message_id(mail)},
    )
    message.attach_alternative(html, "text/html")
    if document is not None:
        message.attach(document.filename, document_pdf(document), "application/pdf")
    return message


def _document(mail: Mail) -> Invoice | None:
    """The PDF a customer's mail carries: the invoice with the confirmation, the refund's credit
    note with the refund notice."""
    order = mail.order
    if order is None or not order.is_paid:
        return None
    if mail.kind == Kind.CONFIRMATION:
        return invoice_for(order)
    if mail.kind == Kind.REFUND:
        refunded = int(mail.context.get("amount_refunded", 0))
        return order.invoices.filter(kind=Invoice.Kind.CREDIT_NOTE, refunded_total=refunded).first()
    return None
