"""Requests broken on purpose (a body in a charset Django refuses, a malformed multipart body, a
Host the shop does not serve) are answered 4xx, by error pages that never fail themselves."""

import logging
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import _get_failure_view  # type: ignore[attr-defined]
from django.test import Client, RequestFactory
from django.urls import get_resolver

from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature

pytestmark = pytest.mark.django_db

# Any well-formed token: Django checks the form's against the cookie's, which match here.
TOKEN = "abcdefghijabcdefghijabcdefghij12"
FORM = "application/x-www-form-urlencoded"


def csrf_client() -> Client:
    """A client whose requests pass the CSRF check, as a browser's do; it raises what a view
    raises (so a 500 fails the test with its traceback)."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = TOKEN
    return client


def post_form(path: str, charset: str, body: bytes) -> Any:
    return csrf_client().generic("POST", path, body, content_type=f"{FORM}; charset={charset}")


@pytest.mark.parametrize("charset", ["latin-1", "iso-8859-5", "x-bogus", "utf-16"])
def test_a_form_in_another_charset_is_a_400_that_writes_nothing(charset: str) -> None:
    item = ItemFactory.create()
    body = f"quantity=1&csrfmiddlewaretoken={TOKEN}".encode("latin-1")

    response = post_form(f"/item/{item.pk}/add-to-order/", charset, body)
    as_json = csrf_client().generic(
        "POST",
        f"/item/{item.pk}/add-to-order/",
        body,
        content_type=f"{FORM}; charset={charset}",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 400
    assert as_json.status_code == 400
    assert "UTF-8" in as_json.json()["error"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("charset", ["latin-1", "x-bogus"])
def test_the_admin_login_in_another_charset_is_a_400(charset: str) -> None:
    body = f"username=admin&password=x&csrfmiddlewaretoken={TOKEN}".encode()
    assert post_form("/admin/login/", charset, body).status_code == 400


def test_an_api_write_in_an_unknown_charset_is_a_400_in_the_apis_shape() -> None:
    item = ItemFactory.create()
    response = csrf_client().generic(
        "POST",
        "/api/v1/cart/lines",
        f'{{"item_id": {item.pk}, "quantity": 1}}'.encode(),
        content_type="application/json; charset=x-bogus",
        headers={"X-CSRFToken": TOKEN},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf_8"])
def test_a_form_that_says_utf8_in_any_spelling_is_read(charset: str) -> None:
    item = ItemFactory.create()
    body = f"quantity=2&csrfmiddlewaretoken={TOKEN}".encode()

    response = post_form(f"/item/{item.pk}/add-to-order/", charset, body)

    assert response.status_code == 302
    assert Order.objects.get().lines.get().quantity == 2


MALFORMED_MULTIPART = b"--xx\r\nContent-Disposition: form-data\r\n\r\ngarbage"


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=xx", "multipart/form-data", "multipart/x"]
)
@pytest.mark.parametrize("path", ["/no/such/page/", "/api/v1/no-such-thing", "/orders/abc/"])
def test_a_malformed_multipart_body_to_an_unknown_address_is_its_404(
    content_type: str, path: str
) -> None:
    response = csrf_client().generic("POST", path, MALFORMED_MULTIPART, content_type=content_type)
    assert response.status_code == 404


# --- Each error handler, handed a request broken in each way ----------------------------------


def _latin1_form() -> HttpRequest:
    return RequestFactory().generic(
        "POST", "/x/", b"a=\xe9", content_type=f"{FORM}; charset=latin-1"
    )


def _broken_multipart() -> HttpRequest:
    return RequestFactory().generic(
        "POST", "/x/", MALFORMED_MULTIPART, content_type="multipart/form-data; boundary=xx"
    )


def _no_boundary() -> HttpRequest:
    return RequestFactory().generic(
        "POST", "/x/", MALFORMED_MULTIPART, content_type="multipart/form-data"
    )


def _bad_host() -> HttpRequest:
    # An Origin makes the CSRF check of Django's error pages read the Host.
    return RequestFactory().post(
        "/x/", {"a": "1"}, headers={"host": "evil.example", "origin": "https://evil.example"}
    )


BROKEN: dict[str, Callable[[], HttpRequest]] = {
    "latin-1 form": _latin1_form,
    "malformed multipart": _broken_multipart,
    "multipart without boundary": _no_boundary,
    "bad host": _bad_host,
}


def _handler(status: int) -> Callable[..., HttpResponse]:
    """The URLconf's own handler for `status` (Django's default where it names none)."""
    return cast(Callable[..., HttpResponse], get_resolver().resolve_error_handler(status))


HANDLERS: dict[str, tuple[Callable[[], Callable[..., HttpResponse]], tuple[Any, ...], int]] = {
    "400": (lambda: _handler(400), (ValueError("x"),), 400),
    "403": (lambda: _handler(403), (PermissionError("x"),), 403),
    "404": (lambda: _handler(404), (Exception("x"),), 404),
    "500": (lambda: _handler(500), (), 500),
    "csrf": (_get_failure_view, ("reason",), 403),
}


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize("handler", HANDLERS)
def test_no_error_page_fails_on_a_broken_request(handler: str, broken: str) -> None:
    request = BROKEN[broken]()
    request.COOKIES["csrftoken"] = TOKEN
    view, args, status = HANDLERS[handler]

    response = view()(request, *args)

    assert response.status_code == status


def test_a_bad_host_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        response = Client().get("/", headers={"host": "evil.example"})

    assert response.status_code == 400
    refusals = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(refusals) == 1
    assert [r.name for r in caplog.records if "evil.example" in r.getMessage()] == [
        "django.security.DisallowedHost"
    ]
    assert refusals[0].levelno == logging.WARNING
    assert refusals[0].exc_info is None
    assert "evil.example" in refusals[0].getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("name", ["a" * 2000, "a%00b", "%ff" * 300])
def test_a_media_name_the_file_system_refuses_is_a_404(name: str) -> None:
    assert Client().get(f"/media/{name}").status_code == 404


@pytest.mark.parametrize("field", [{"metadata": "x"}, {"payment_intent": 5}, {"metadata": [1]}])
def test_a_signed_event_with_odd_fields_is_not_a_handler_failure(
    fake_stripe: Any, settings: Any, field: dict[str, Any]
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    payload = encode(event("checkout.session.expired", {"id": "cs_test_x", **field}))
    response = Client().post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload)},
    )
    assert response.status_code == 200
