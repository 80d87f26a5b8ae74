"""The owner's admin: the "Owner" and "Staff" groups `make run` makes, what each sees and may
do, and developer internals shown to superusers only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order
from kassa.payments.models import Refund
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"
JSON = {"Accept": "application/json"}

# Admin pages of developer internals, by path: none of them for owner or staff.
INTERNAL_PAGES = [
    "/admin/payments/paymentattempt/",
    "/admin/payments/webhookevent/",
    "/admin/payments/stripecoupon/",
    "/admin/payments/stripetaxrate/",
    "/admin/django_tasks_database/dbtaskresult/",
    "/admin/axes/accessattempt/",
    "/admin/axes/accesslog/",
    "/admin/axes/accessfailurelog/",
]


def member(group: str) -> Client:
    call_command("ensure_groups", verbosity=0)
    user = User.objects.create_user(group.lower(), f"{group}@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def superuser() -> Client:
    User.objects.create_superuser("dev", "dev@example.com", PASSWORD)
    client = Client()
    assert client.login(username="dev", password=PASSWORD)
    return client


def perms(group: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_ensure_groups_makes_owner_and_staff_with_their_permissions() -> None:
    call_command("ensure_groups", verbosity=0)

    owner, staff = perms("Owner"), perms("Staff")
    for needed in ("catalog.change_item", "orders.change_discount", "auth.add_user"):
        assert needed in owner
    for needed in ("orders.change_order", "payments.add_refund", "dashboard.view_cart"):
        assert needed in staff
    assert "catalog.change_item" not in staff
    for internal in ("payments.view_webhookevent", "payments.view_paymentattempt"):
        assert internal not in owner | staff
    assert not any(name.startswith(("axes.", "django_tasks_database.")) for name in owner)


def test_a_second_run_keeps_what_the_owner_changed_and_reset_undoes_it() -> None:
    call_command("ensure_groups", verbosity=0)
    staff = Group.objects.get(name="Staff")
    staff.permissions.remove(Permission.objects.get(codename="add_refund"))

    call_command("ensure_groups", verbosity=0)
    assert "payments.add_refund" not in perms("Staff")

    call_command("ensure_groups", "--reset", verbosity=0)
    assert "payments.add_refund" in perms("Staff")


@pytest.mark.parametrize("group", ["Owner", "Staff"])
def test_owner_and_staff_do_not_see_the_developer_internals(group: str) -> None:
    client = member(group)

    index = client.get("/admin/").text

    assert "/admin/orders/order/" in index
    for path in INTERNAL_PAGES:
        assert path not in index
        assert client.get(path).status_code == 403


def test_a_superuser_sees_the_internals() -> None:
    client = superuser()
    index = client.get("/admin/").text
    for path in INTERNAL_PAGES:
        assert path in index
        assert client.get(path).status_code == 200


def test_internals_stay_hidden_even_if_a_group_is_given_their_permissions() -> None:
    client = member("Owner")
    Group.objects.get(name="Owner").permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["payments", "axes"])
    )
    assert client.get("/admin/payments/webhookevent/").status_code == 403
    assert client.get("/admin/axes/accessattempt/").status_code == 403


@pytest.fixture
def paid_order(fake_stripe: FakeStripe, settings: SettingsWrapper) -> Order:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    item = ItemFactory.create(price=Decimal("10.00"), stock=5)
    body = Client().get(f"/buy/{item.pk}?quantity=2", headers=JSON).json()
    session = fake_stripe.resources.complete_checkout_session(body["id"])
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    return Order.objects.get(pk=body["order_id"])


def test_staff_refund_returned_units_from_the_order_page(paid_order: Order) -> None:
    client = member("Staff")
    line = paid_order.lines.get()
    url = f"/admin/orders/order/{paid_order.pk}/refund/"

    page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").text
    form = client.get(url).text
    done = client.post(
        url,
        {
            "confirm_refund": "1",
            "confirm": "on",
            "restock": "on",
            f"returned_{line.pk}": "1",
            "refunded_before": "0",
        },
    )

    assert url in page
    assert "payment attempts" not in page.lower()  # an internal, inline too
    assert "units returned" in form
    assert done.status_code == 302
    assert done["Location"].endswith(f"/admin/orders/order/{paid_order.pk}/change/")
    [refund] = Refund.objects.filter(order=paid_order)
    assert refund.amount == 1000
    assert refund.requested_by == "admin staff"
    line.item.refresh_from_db()
    assert line.item.stock == 4


def test_staff_without_the_refund_permission_cannot_refund(paid_order: Order) -> None:
    Group.objects.filter(name="Staff").delete()
    client = member("Staff")
    Group.objects.get(name="Staff").permissions.remove(
        Permission.objects.get(codename="add_refund")
    )

    listing = client.get("/admin/orders/order/").text
    page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").text
    form = client.get(f"/admin/orders/order/{paid_order.pk}/refund/")

    assert "refund_in_stripe" not in listing
    assert f"/admin/orders/order/{paid_order.pk}/refund/" not in page
    assert form.status_code == 403
    assert not Refund.objects.exists()


def test_the_order_page_says_what_was_paid_refunded_and_is_left_to_ship(
    paid_order: Order,
) -> None:
    client = member("Owner")
    Refund.objects.create(
        order=paid_order,
        stripe_id="re_test_waiting",
        payment_intent_id="pi_test_x",
        amount=300,
        currency="usd",
        state=Refund.State.PENDING,
        requested_by="test",
    )

    page = client.get(f"/admin/orders/order/{paid_order.pk}/change/").text

    assert "Paid $20.00" in page
    assert "$3.00 waiting at Stripe" in page
    assert "To ship: 2 × " in page


def test_staff_refund_at_most_the_owners_limit_and_the_owner_any_amount(
    paid_order: Order, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_STAFF_REFUND_LIMIT = {"usd": "5", "eur": "100"}
    staff = member("Staff")
    line = paid_order.lines.get()
    url = f"/admin/orders/order/{paid_order.pk}/refund/"
    form = {"confirm_refund": "1", "confirm": "on", "restock": "on", "refunded_before": "0"}

    whole = staff.post(url, form, follow=True).text
    one_unit = staff.post(url, {**form, f"returned_{line.pk}": "1"}, follow=True).text

    assert "A refund of more than $5.00 needs the owner" in whole
    assert "A refund of more than $5.00 needs the owner" in one_unit
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []
    staff.post(url, {**form, "amount": "5.00"})
    assert [r.amount for r in Refund.objects.all()] == [500]

    owner = Client()
    owner_user = User.objects.create_user("boss", "", PASSWORD, is_staff=True)
    owner_user.groups.add(Group.objects.get(name="Owner"))
    owner.force_login(owner_user)
    owner.post(url, {**form, "refunded_before": "500"})
    assert sorted(r.amount for r in Refund.objects.all()) == [500, 1500]
