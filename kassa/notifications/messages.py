"""A queued mail as the message it is: subject, plain text and HTML, in the customer's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from kassa.common.money import format_amount, from_minor
from kassa.notifications.models import Mail
from kassa.orders.links import order_link, shop_url
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals

Kind = Mail.Kind
_STAFF = {Kind.STAFF_NEW_ORDER, Kind.STAFF_NOTICE}
_SAYS_WHAT_WAS_REFUNDED = {Kind.REFUND, Kind.RETURN_APPROVED}
# Mail to an address rather than to an order's buyer (a sign-in code): the address is `to`.
_ADDRESSED = {Kind.SIGN_IN}


class NoRecipient(Exception):
    """Nobody to send it to (no e-mail on the order, no staff addresses)."""


def _recipients(mail: Mail) -> list[str]:
    if mail.kind in _STAFF:
        return list(settings.SHOP_STAFF_EMAILS)
    if mail.kind in _ADDRESSED:
        return [str(mail.context["to"])] if mail.context.get("to") else []
    return [mail.order.email] if mail.order and mail.order.email else []


def _message_id(mail: Mail) -> str:
    """The same for every attempt at this mail: a resend after a crash is the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "kassa.local"
    return f"<kassa-mail-{mail.pk}.{int(mail.created_at.timestamp())}@{domain}>"


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
        "tax": money(totals.tax) if totals.tax else "",
        "tax_inclusive": totals.tax_inclusive,
        "shipping": money(totals.shipping),
        "total": money(order.amount_paid if order.amount_paid is not None else totals.total),
        "address": order.shipping_address_lines,
        "link": order_link(order),
        "admin_link": shop_url(reverse("admin:orders_order_change", args=[order.pk])),
    }


def build(mail: Mail) -> EmailMultiAlternatives:
    language = settings.LANGUAGE_CODE if mail.kind in _STAFF else mail.language
    with translation.override(language or settings.LANGUAGE_CODE):
        context: dict[str, object] = {"mail": mail, **mail.context}
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
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=_recipients(mail),
        headers={"Message-ID": _message_id(mail)},
    )
    message.attach_alternative(html, "text/html")
    return message
