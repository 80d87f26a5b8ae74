"""The account in the API: signing in by the mailed code, "me", my orders, addresses, returns."""

from typing import get_args

import pytest

from kassa.api.schemas import ReturnStatus
from kassa.customers.models import ReturnRequest
from tests.api.test_api import API, Api
from tests.customers.shop import code_of, paid_order, sign_in_mail
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"


def signed_in_api(smtp: SMTPServer, email: str = EMAIL) -> Api:
    api = Api()
    asked = api.send("post", "/account/sign-in", {"email": email.upper()})
    assert asked.status_code == 202, asked.content
    code = code_of(sign_in_mail(smtp, email))
    answer = api.send("post", "/account/sign-in/verify", {"email": email, "code": code})
    assert answer.status_code == 200, answer.content
    assert answer.json()["email"] == email
    # The session's CSRF token changed at sign-in: a front end reads the new one.
    api.headers["X-CSRFToken"] = api.get("/csrf").json()["csrf_token"]
    return api


def test_sign_in_needs_csrf_and_answers_the_same_for_any_address(smtp: SMTPServer) -> None:
    api = Api()
    no_token = api.client.post(
        f"{API}/account/sign-in", {"email": EMAIL}, content_type="application/json"
    )
    assert no_token.status_code == 403
    answers = [
        api.send("post", "/account/sign-in", {"email": address}).json()
        for address in (EMAIL, "nobody@example.com")
    ]
    assert answers[0] == answers[1]
    bad = api.send("post", "/account/sign-in", {"email": "not an address"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_a_wrong_code_is_a_json_error_and_me_needs_a_sign_in(smtp: SMTPServer) -> None:
    api = Api()
    assert api.get("/me").status_code == 401
    assert api.get("/me").json()["code"] == "not_signed_in"
    api.send("post", "/account/sign-in", {"email": EMAIL})
    wrong = api.send("post", "/account/sign-in/verify", {"email": EMAIL, "code": "AAAAAA"})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "sign_in_failed"
    # Not an address (a NUL, which PostgreSQL refuses to compare): the same answer.
    odd = api.send("post", "/account/sign-in/verify", {"email": "a\x00@example.com", "code": "A"})
    assert (odd.status_code, odd.json()["code"]) == (400, "sign_in_failed")
    assert api.get("/me").status_code == 401


def test_my_orders_addresses_and_a_return_through_the_api(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    order = paid_order(fake_stripe, email=EMAIL)
    api = signed_in_api(smtp)
    assert api.get("/me").json()["email"] == EMAIL
    assert [o["id"] for o in api.get("/me/orders").json()["orders"]] == [order.pk]
    [address] = api.get("/me/addresses").json()["addresses"]  # kept from the paid order
    assert address["line1"] == "1 Main St"

    mug = order.lines.get(item__name="Mug")
    asked = api.send(
        "post",
        f"/orders/{order.pk}/returns",
        {"lines": [{"line_id": mug.pk, "quantity": 2}], "reason": "Too small."},
    )
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["status"] == "requested"
    assert body["lines"] == [{"line_id": mug.pk, "item": "Mug", "quantity": 2}]
    again = api.send(
        "post",
        f"/orders/{order.pk}/returns",
        {"lines": [{"line_id": mug.pk, "quantity": 1}], "reason": "Too small."},
    )
    assert again.status_code == 400
    assert again.json()["code"] == "return_refused"
    assert [r["id"] for r in api.get("/me/returns").json()["returns"]] == [body["id"]]
    assert ReturnRequest.objects.get().customer is not None

    stranger = Api()
    refused = stranger.send(
        "post",
        f"/orders/{order.pk}/returns",
        {"lines": [{"line_id": mug.pk, "quantity": 1}], "reason": "x"},
    )
    assert refused.status_code == 404

    assert api.send("post", "/account/sign-out").status_code == 204
    assert api.get("/me").status_code == 401


def test_the_schemas_return_statuses_are_the_models() -> None:
    assert set(get_args(ReturnStatus)) == set(ReturnRequest.Status.values)
