"""Who may do what in the admin: the "Owner" and "Staff" groups, and the developer internals
only superusers see.

- Owner: everything of the shop: the catalog, orders and their fulfilment, refunds, discounts,
  gift cards, taxes, shipping rates, payments nobody matched, the mail queue, staff accounts and
  groups.
- Staff: the day's work: orders (view, mark shipped or delivered), refunds, carts, the catalog,
  gift cards and the mail queue to read. Refunding is its own permission ("Can add refund"):
  the owner takes it from the Staff group (or gives it to one person) as they choose.
- Internals (payment attempts, webhook events, the Stripe objects the shop made, task results,
  login attempts): superusers only, whatever permissions a group holds (kassa.backoffice.admin).

`ensure_groups` makes the groups with these permissions; later runs give the Owner group the
permissions of models added since and leave the Staff group as the owner set it (`reset=True`
puts it back).
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

OWNER, STAFF = "Owner", "Staff"

# Records of how the shop works inside, for developers: (app label, model).
INTERNALS: frozenset[tuple[str, str]] = frozenset(
    {
        ("payments", "paymentattempt"),
        ("payments", "webhookevent"),
        ("payments", "stripecoupon"),
        ("payments", "stripetaxrate"),
        ("payments", "stripeshippingrate"),
        ("django_tasks_database", "dbtaskresult"),
        ("axes", "accessattempt"),
        ("axes", "accesslog"),
        ("axes", "accessfailurelog"),
        ("axes", "accessattemptexpiration"),
        ("admin", "logentry"),
        ("contenttypes", "contenttype"),
        ("sessions", "session"),
        ("auth", "permission"),
        ("common", "cacheentry"),
        ("catalog", "catalogrevision"),
    }
)

# The apps whose every other model is the owner's, and the accounts of who works in the shop.
_OWNER_APPS = ("catalog", "orders", "payments", "notifications", "dashboard", "giftcards")
_OWNER_EXTRA = (("auth", "user"), ("auth", "group"))

STAFF_PERMISSIONS: frozenset[str] = frozenset(
    {
        "orders.view_order",
        "orders.change_order",  # fulfilment: mark shipped, delivered
        "orders.view_orderline",
        "orders.view_orderstatuschange",
        "orders.view_reservation",
        "dashboard.view_cart",
        "catalog.view_item",
        "payments.view_refund",
        "payments.view_refundline",
        "payments.add_refund",  # the refund form
        "payments.view_unmatchedpayment",
        "notifications.view_mail",
        "giftcards.view_giftcard",  # a customer asking what is left on their card
        "giftcards.view_giftcardentry",
    }
)


def is_internal(app_label: str, model_name: str) -> bool:
    return (app_label, model_name) in INTERNALS


def owner_permissions() -> list[Permission]:
    shop = Q(content_type__app_label__in=_OWNER_APPS)
    for app_label, model in _OWNER_EXTRA:
        shop |= Q(content_type__app_label=app_label, content_type__model=model)
    return [
        permission
        for permission in Permission.objects.filter(shop).select_related("content_type")
        if not is_internal(permission.content_type.app_label, permission.content_type.model)
    ]


def staff_permissions() -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in STAFF_PERMISSIONS}
    return [
        permission
        for permission in Permission.objects.select_related("content_type").filter(
            codename__in={codename for _, codename in wanted}
        )
        if (permission.content_type.app_label, permission.codename) in wanted
    ]


@transaction.atomic
def ensure_groups(*, reset: bool = False) -> dict[str, int]:
    """Make the Owner and Staff groups if missing (run after migrate: the permissions exist
    then). The Owner group gets every permission of the shop it lacks; the Staff group gets its
    permissions when it is made, or with `reset`. Returns each group's permission count."""
    owner, _ = Group.objects.get_or_create(name=OWNER)
    owner.permissions.add(*owner_permissions())
    staff, created = Group.objects.get_or_create(name=STAFF)
    if created or reset:
        staff.permissions.set(staff_permissions())
    if reset:
        owner.permissions.set(owner_permissions())
    return {OWNER: owner.permissions.count(), STAFF: staff.permissions.count()}
