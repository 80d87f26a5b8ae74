"""Signing in by a code sent by e-mail, through a real SMTP server."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.customers.models import Customer, SignInCode
from kassa.customers.sign_in import ALPHABET, CODE_LENGTH
from kassa.notifications.models import Mail
from tests.customers.shop import ask_code, code_of, link_of, sign_in, sign_in_mail
from tests.html import csrf_token_in
from tests.mail import SMTPServer, decoded_subject, part, smtp

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"


def signed_in(client: Client) -> bool:
    return client.get("/account/").status_code == 200


def test_a_code_from_the_mail_signs_in_and_makes_the_account(smtp: SMTPServer) -> None:
    client = Client()
    assert client.get("/account/")["Location"] == "/account/sign-in/"
    page = client.get("/account/sign-in/").content.decode()
    assert 'name="email"' in page
    ask_code(client, "  Ada@Example.com ")
    assert 'name="code"' in client.get("/account/sign-in/code/").content.decode()

    message = sign_in_mail(smtp, EMAIL)
    code = code_of(message)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(ALPHABET)
    assert code in decoded_subject(message)
    assert code in part(message, "text/html")
    assert link_of(message).startswith("http")
    # What was sent is no longer in the database: the row says only that it went.
    mail = Mail.objects.get(kind=Mail.Kind.SIGN_IN)
    assert mail.state == Mail.State.SENT
    assert mail.context == {}
    assert code not in str(SignInCode.objects.values_list()[0])

    before = client.session.session_key
    answer = client.post("/account/sign-in/code/", {"code": code.lower()})
    assert answer.status_code == 302
    assert answer["Location"] == "/account/"
    assert client.session.session_key != before  # the session key rotates at sign-in
    page = client.get("/account/").content.decode()
    assert EMAIL in page
    customer = Customer.objects.get()
    assert customer.email == EMAIL
    assert not customer.user.has_usable_password()
    assert not customer.user.is_staff


def test_the_same_answer_for_an_address_with_and_without_an_account(smtp: SMTPServer) -> None:
    sign_in(Client(), smtp, EMAIL)
    known, unknown = Client(), Client()
    answers = [known.post("/account/sign-in/", {"email": EMAIL})]
    answers.append(unknown.post("/account/sign-in/", {"email": "nobody@example.com"}))
    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, "/account/sign-in/code/")
    ] * 2
    pages = [
        re.sub(r'value="[A-Za-z0-9]{64}"', "", c.get("/account/sign-in/code/").content.decode())
        for c in (known, unknown)
    ]
    assert pages[0].replace(EMAIL, "X") == pages[1].replace("nobody@example.com", "X")
    sign_in_mail(smtp, "nobody@example.com")  # an unknown address gets its code too
    assert Customer.objects.count() == 1  # and its account only once it signs in


def test_five_wrong_codes_end_the_code(smtp: SMTPServer) -> None:
    client = Client()
    ask_code(client, EMAIL)
    code = code_of(sign_in_mail(smtp, EMAIL))
    wrong = "2222222" if code != "222222" else "333333"
    for tries_left in (4, 3, 2, 1):
        answer = client.post("/account/sign-in/code/", {"code": wrong[:6]}, follow=True)
        assert f"{tries_left} more tr" in answer.content.decode()
    last = client.post("/account/sign-in/code/", {"code": wrong[:6]}, follow=True)
    assert "Ask for a new one" in last.content.decode()
    right = client.post("/account/sign-in/code/", {"code": code}, follow=True)
    assert "Ask for a new one" in right.content.decode()  # the right code no longer helps
    assert not signed_in(client)
    assert SignInCode.objects.get().failed_tries == 5


def test_an_expired_code_and_a_used_code_do_not_sign_in(smtp: SMTPServer) -> None:
    client = Client()
    ask_code(client, EMAIL)
    code = code_of(sign_in_mail(smtp, EMAIL))
    SignInCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = client.post("/account/sign-in/code/", {"code": code}, follow=True)
    assert "Ask for a new one" in answer.content.decode()
    assert not signed_in(client)

    sign_in(client, smtp, EMAIL, count=2)
    used = code_of(sign_in_mail(smtp, EMAIL, count=2))
    other = Client()
    other.post("/account/sign-in/", {"email": EMAIL})
    # Asking again replaced the used code with a new one; the old one works nowhere.
    answer = other.post("/account/sign-in/code/", {"code": used}, follow=True)
    assert not signed_in(other)
    assert "not right" in answer.content.decode() or "Ask for a new one" in answer.content.decode()


def test_the_link_signs_in_another_browser_once(smtp: SMTPServer) -> None:
    ask_code(Client(), EMAIL)  # asked on the laptop...
    link = link_of(sign_in_mail(smtp, EMAIL))
    path = link.split("://", 1)[1].split("/", 1)[1]
    phone = Client(enforce_csrf_checks=True)  # ...opened on the phone
    page = phone.get(f"/{path}")
    assert page.status_code == 200
    assert not signed_in(phone)
    answer = phone.post(f"/{path}", {"csrfmiddlewaretoken": csrf_token_in(page.content.decode())})
    assert answer.status_code == 302
    assert answer["Location"] == "/account/"
    assert signed_in(phone)
    again = Client()
    again.post(f"/{path}")
    assert not signed_in(again)


def test_signing_out_ends_the_session(smtp: SMTPServer) -> None:
    client = Client()
    sign_in(client, smtp, EMAIL)
    assert client.get("/account/logout/").status_code == 405
    assert client.post("/account/logout/").status_code == 302
    assert not signed_in(client)


def test_codes_are_throttled_per_address_and_email(
    smtp: SMTPServer, settings: SettingsWrapper
) -> None:
    settings.SHOP_THROTTLE = True
    settings.SHOP_THROTTLE_SIGN_IN_PER_EMAIL = "2/h"
    settings.SHOP_THROTTLE_SIGN_IN_PER_ADDRESS = "100/h"
    statuses = [
        Client().post("/account/sign-in/", {"email": "throttle@example.com"}).status_code
        for _ in range(3)
    ]
    assert statuses[:2] == [302, 302]
    refused = Client().post(
        "/account/sign-in/",
        {"email": "THROTTLE@example.com"},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert SignInCode.objects.filter(email="throttle@example.com").count() == 1


def test_staff_sign_in_to_the_admin_is_untouched(smtp: SMTPServer) -> None:
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client = Client()
    sign_in(client, smtp, "boss@example.com")  # a customer account of its own
    assert client.get("/admin/").status_code == 302  # not staff through a code
    customer = Customer.objects.get(email="boss@example.com")
    assert customer.user.username != "boss"
