"""What a customer does on the stand-in's pages: pays a Checkout Session (or has the card
declined, or leaves the payment pending), settles a pending one, confirms a PaymentIntent."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kassa.demo_stripe import api, events

# Card numbers as Stripe's test mode reads them: this one is declined, any other pays.
DECLINED_CARD = "4000000000000002"


@dataclass(frozen=True)
class Details:
    email: str
    name: str
    phone: str = ""
    address: dict[str, str] | None = None
    shipping_option: int = 0


class Declined(Exception):
    """The card was declined: the session stays open, as on Stripe's Checkout."""


def declined(card_number: str) -> bool:
    return "".join(card_number.split()) == DECLINED_CARD


def complete_session(session_id: str, details: Details, *, pending: bool = False) -> None:
    """The customer paid (or, `pending`, chose a way to pay that settles later). The session's
    events reach the shop before this returns, as Stripe's usually do before the browser."""
    with transaction.atomic():
        session = api.load("checkout.session", session_id, lock=True)
        if session["status"] != "open":
            raise api.StripeError(400, "This Checkout Session is no longer open.")
        options = session.get("shipping_options") or []
        if options:
            chosen = options[min(max(details.shipping_option, 0), len(options) - 1)]
            session.update(
                api.price(
                    {"discounts": session.get("discounts_sent", [])},
                    session["line_items_sent"],
                    session["currency"],
                    shipping=chosen,
                )
            )
        address = {key: (value or None) for key, value in (details.address or {}).items()}
        session["customer_details"] = {
            "email": session.get("customer_email") or details.email,
            "name": details.name,
            "phone": details.phone or None,
            "address": {"country": address.get("country")},
        }
        collect_address = bool(session.get("shipping_address_collection"))
        session["collected_information"] = {
            "shipping_details": (
                {"name": details.name, "address": address} if collect_address else None
            )
        }
        intent = api.new_intent(
            amount=session["amount_total"],
            currency=session["currency"],
            metadata=dict(session.get("metadata") or {}),
        )
        if pending:
            intent["status"] = "processing"
        else:
            api.succeed_intent(intent)
        api.save("payment_intent", intent)
        session.update(
            status="complete",
            payment_status="unpaid" if pending else "paid",
            payment_intent=intent["id"],
            url=None,
        )
        api.save("checkout.session", session)
    events.send_now("checkout.session.completed", session)


def settle_session(session_id: str, *, succeeded: bool) -> None:
    """A pending payment arrives (or fails), as a bank transfer's does days later."""
    with transaction.atomic():
        session = api.load("checkout.session", session_id, lock=True)
        if session["status"] != "complete" or session["payment_status"] != "unpaid":
            raise api.StripeError(400, "This Checkout Session has no pending payment.")
        intent = api.load("payment_intent", session["payment_intent"], lock=True)
        if succeeded:
            api.succeed_intent(intent)
            session["payment_status"] = "paid"
        else:
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"code": "payment_failed", "message": "Demo failure."}
        api.save("payment_intent", intent)
        api.save("checkout.session", session)
    kind = "succeeded" if succeeded else "failed"
    events.send_now(f"checkout.session.async_payment_{kind}", session)


def confirm_intent(client_secret: str, card_number: str) -> dict[str, Any]:
    """The card form's Pay: the intent succeeds, or the card is declined (Declined)."""
    intent_id = client_secret.partition("_secret_")[0]
    with transaction.atomic():
        intent = api.load("payment_intent", intent_id, lock=True)
        if intent["client_secret"] != client_secret:
            raise api.StripeError(404, "No such payment_intent.")
        if intent["status"] == "succeeded":
            return intent
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise api.StripeError(400, f"This PaymentIntent's status is {intent['status']}.")
        if declined(card_number):
            intent["last_payment_error"] = {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
            api.save("payment_intent", intent)
            failed = dict(intent)
        else:
            api.succeed_intent(intent)
            api.save("payment_intent", intent)
            failed = None
    if failed is not None:
        events.send_now("payment_intent.payment_failed", failed)
        raise Declined()
    events.send_now("payment_intent.succeeded", intent)
    return intent
