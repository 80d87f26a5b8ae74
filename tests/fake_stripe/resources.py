"""The Stripe objects the fake keeps, and the API routes that create and read them."""

import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_stripe.server import RecordedRequest


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def payload(self) -> dict[str, Any]:
        return {"type": "invalid_request_error", "message": self.message, "param": self.param}


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def _require(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, ""):
        raise StripeError(400, f"Missing required param: {name}.", param=name)
    return body[name]


class Resources:
    def __init__(self) -> None:
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            ("POST", re.compile(r"/v1/checkout/sessions"), self.create_checkout_session),
            ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), self.get_checkout_session),
            (
                "POST",
                re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"),
                self.expire_checkout_session,
            ),
        ]

    def dispatch(self, request: "RecordedRequest") -> dict[str, Any]:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    # --- Checkout Sessions ---------------------------------------------------------------------
    def create_checkout_session(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        if _require(body, "mode") != "payment":
            raise StripeError(400, "The fake only knows mode=payment.", param="mode")
        _require(body, "success_url")
        line_items = _require(body, "line_items")
        currencies = {line["price_data"]["currency"] for line in line_items}
        if len(currencies) != 1:
            raise StripeError(400, "All line items must share one currency.", param="line_items")
        amount = 0
        for index, line in enumerate(line_items):
            unit_amount = line["price_data"].get("unit_amount", "")
            if not unit_amount.isdigit():
                raise StripeError(400, "Invalid integer unit_amount.", param=f"line_items[{index}]")
            amount += int(unit_amount) * int(line.get("quantity", "1"))
        session_id = _new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "currency": currencies.pop(),
            "amount_subtotal": amount,
            "amount_total": amount,
            "client_reference_id": body.get("client_reference_id"),
            "metadata": body.get("metadata", {}),
            "success_url": body["success_url"],
            "cancel_url": body.get("cancel_url"),
            "payment_intent": None,
            "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600,
            "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        self.checkout_sessions[session_id] = session
        return session

    def _session(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.checkout_sessions:
            raise StripeError(404, f"No such checkout.session: '{session_id}'", param="session")
        return self.checkout_sessions[session_id]

    def get_checkout_session(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        return self._session(id)

    def expire_checkout_session(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        session = self._session(id)
        if session["status"] != "open":
            raise StripeError(400, "Only open Checkout Sessions can be expired.")
        session.update(status="expired", url=None)
        return session

    def complete_checkout_session(self, session_id: str) -> dict[str, Any]:
        """What a customer paying on Checkout does: the session completes and is paid."""
        session = self._session(session_id)
        session.update(status="complete", payment_status="paid", payment_intent=_new_id("pi"))
        return session
