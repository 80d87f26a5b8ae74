"""What a discount's rules allow, and why not: dates, currency, minimum subtotal, the products it
covers, free shipping, and (counted in the database) its uses. Also which automatic discount a
cart gets: the best of those that fit it.

Every refusal says which rule failed, in words for the customer: a code is checked when it is
typed (kassa.orders.cart), shown in the cart while it sits there (kassa.orders.review), and
checked again when a payment begins (kassa.orders.discount_uses), which also holds its use.

The automatic discounts and the products each limited discount covers are read once per
catalog revision and kept per process, as checkout_defaults keeps taxes: saving a discount, a
product or a collection bumps the revision. Dates are compared when asked, so a sale starts and
ends on time whatever is kept.
"""

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from types import MappingProxyType

from django.db.models import Count, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kassa.catalog import revision
from kassa.catalog.models import CollectionProduct, Item
from kassa.common.money import THREE_DECIMAL, format_amount, from_minor, to_minor
from kassa.orders.models import Discount, DiscountUse, Order, OrderLine
from kassa.orders.models.adjustments import percent


@dataclass(frozen=True)
class _Terms:
    automatic: tuple[Discount, ...]  # active automatic discounts, whatever their dates
    # The products each limited discount covers (its own and its collections'), by its id.
    scopes: MappingProxyType[int, frozenset[int]]
    names: MappingProxyType[int, tuple[str, ...]]  # what a limited discount covers, in words


def snapshot() -> _Terms:
    """What the rules read of the discounts, once for a whole computation (pass it on)."""
    return _terms()


def _load() -> _Terms:
    scopes: dict[int, set[int]] = {}
    names: dict[int, list[str]] = {}
    through = Discount.products.through
    for discount_id, product_id, title in through.objects.values_list(
        "discount_id", "product_id", "product__name"
    ).order_by("product__name"):
        scopes.setdefault(discount_id, set()).add(product_id)
        names.setdefault(discount_id, []).append(title)
    by_collection: dict[int, set[int]] = {}
    for collection_id, product_id in CollectionProduct.objects.values_list(
        "collection_id", "product_id"
    ):
        by_collection.setdefault(collection_id, set()).add(product_id)
    for discount_id, collection_id, title in Discount.collections.through.objects.values_list(
        "discount_id", "collection_id", "collection__name"
    ).order_by("collection__name"):
        scopes.setdefault(discount_id, set()).update(by_collection.get(collection_id, ()))
        names.setdefault(discount_id, []).append(title)
    automatic = tuple(Discount.objects.filter(automatic=True, active=True).order_by("id"))
    return _Terms(
        automatic=automatic,
        scopes=MappingProxyType({k: frozenset(v) for k, v in scopes.items()}),
        names=MappingProxyType({k: tuple(v) for k, v in names.items()}),
    )


# What every order reads, kept per process under the catalog revision.
_terms = revision.KeptPerRevision(_load)


def _changed(sender: type, **kwargs: object) -> None:
    revision.bump()


def connect() -> None:
    post_save.connect(_changed, sender=Discount, dispatch_uid="discount-rules-save")
    post_delete.connect(_changed, sender=Discount, dispatch_uid="discount-rules-delete")
    for field in (Discount.products, Discount.collections):
        m2m_changed.connect(
            _changed, sender=field.through, dispatch_uid=f"discount-rules-{field.field.name}"
        )


# --- What a discount covers ------------------------------------------------------------------


def scope(discount: Discount, terms: _Terms | None = None) -> frozenset[int] | None:
    """The products whose lines `discount` reduces; None: every line."""
    if discount.pk is None:
        return None
    return (terms or _terms()).scopes.get(discount.pk)


def covers(discount: Discount, item: Item, terms: _Terms | None = None) -> bool:
    products = scope(discount, terms)
    return products is None or item.product_id in products


def covered_names(discount: Discount, terms: _Terms | None = None) -> tuple[str, ...]:
    return (terms or _terms()).names.get(discount.pk, ()) if discount.pk else ()


def automatic_discounts(
    *, now: datetime | None = None, terms: _Terms | None = None
) -> list[Discount]:
    """The automatic discounts running now (copies)."""
    now = now or timezone.now()
    automatic = (terms or _terms()).automatic
    return [copy.copy(d) for d in automatic if _window_refusal(d, now) is None]


def running_now(*, now: datetime | None = None) -> str:
    """The automatic discounts running at this moment, by id: part of the version of a page
    copy that shows a sale, so a sale starting or ending by its dates makes new copies at
    that moment, without a catalog change (no query once the terms are kept)."""
    now = now or timezone.now()
    return ",".join(str(d.pk) for d in _terms().automatic if _window_refusal(d, now) is None)


# --- The rules -------------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    """A moment as the customer reads it, in the shop's TIME_ZONE."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _window_refusal(discount: Discount, now: datetime) -> str | None:
    if discount.valid_from and now < discount.valid_from:
        return _("This code can be used from %(when)s.") % {"when": _when(discount.valid_from)}
    if discount.valid_until and now >= discount.valid_until:
        return _("This code expired on %(when)s.") % {"when": _when(discount.valid_until)}
    return None


def minimum(discount: Discount, currency: str) -> int | None:
    """The smallest subtotal (minor units) an order in `currency` needs for `discount`."""
    value = (discount.min_subtotal or {}).get(currency)
    if value in (None, ""):
        return None
    try:
        return to_minor(Decimal(str(value)), currency)
    except (InvalidOperation, ValueError, ArithmeticError):
        return None


@dataclass(frozen=True)
class Cart:
    """What the rules read of an order: its currency, lines and what they come to."""

    currency: str
    lines: Sequence[OrderLine]
    subtotal: int  # minor units, after any automatic discount, before the code's


def refusal(
    discount: Discount, cart: Cart, *, now: datetime | None = None, terms: _Terms | None = None
) -> str | None:
    """Why `discount` does not apply to `cart` now (None: it does), uses aside (use_refusal)."""
    now = now or timezone.now()
    if not discount.active:
        return _("This code is no longer active.")
    window = _window_refusal(discount, now)
    if window:
        return window
    if not discount.fits(cart.currency):
        return _("This code is for orders in %(currency)s.") % {
            "currency": discount.currency.upper()
        }
    least = minimum(discount, cart.currency)
    if least is not None and cart.subtotal < least:
        return _(
            "This code needs a subtotal of at least %(least)s: add %(missing)s more to use it."
        ) % {
            "least": format_amount(from_minor(least, cart.currency), cart.currency),
            "missing": format_amount(
                from_minor(least - cart.subtotal, cart.currency), cart.currency
            ),
        }
    terms = terms or _terms()
    if cart.lines and not any(covers(discount, line.item, terms) for line in cart.lines):
        names = ", ".join(covered_names(discount, terms)) or "—"
        return _("This code applies only to %(names)s, and none of it is in your cart.") % {
            "names": names
        }
    if discount.is_free_shipping and not any(line.item.requires_shipping for line in cart.lines):
        return _("This code gives free shipping, and nothing in your cart is shipped.")
    return None


def _uses(*, exclude_order: int | None) -> Q:
    live = Q(state__in=[DiscountUse.State.HELD, DiscountUse.State.USED])
    return live & ~Q(order_id=exclude_order) if exclude_order else live


def counts_uses(discount: Discount) -> bool:
    return discount.max_uses is not None or discount.max_uses_per_customer is not None


def use_refusal(
    discount: Discount, *, order_id: int | None, email: str, user_id: int | None
) -> str | None:
    """Why `discount` has no use left for this customer (None: it has). Held uses count: a
    payment being made takes one. One query, none for a discount without limits."""
    if not counts_uses(discount):
        return None
    live = DiscountUse.objects.filter(_uses(exclude_order=order_id), discount=discount)
    mine = Q(pk__in=[])
    if email:
        mine |= Q(email__iexact=email)
    if user_id is not None:
        mine |= Q(user_id=user_id)
    counted = live.aggregate(all=Count("id"), mine=Count("id", filter=mine))
    if discount.max_uses is not None and counted["all"] >= discount.max_uses:
        return _("This code has been used up.")
    per_customer = discount.max_uses_per_customer
    if per_customer is not None and counted["mine"] >= per_customer:
        return ngettext(
            "This code can be used once per customer, and you have used it already.",
            "This code can be used %(count)s times per customer, and you have used it "
            "that often already.",
            per_customer,
        ) % {"count": per_customer}
    return None


def customer_of(order: Order) -> tuple[str, int | None]:
    """Who an order's uses count against: its e-mail (or its account's) and its account."""
    email = order.email or (order.user.email if order.user_id and order.user else "")
    return email, order.user_id


# --- Automatic discounts -----------------------------------------------------------------------


def _step(currency: str) -> int:
    return 10 if currency.lower() in THREE_DECIMAL else 1


def unit_cut(
    promotion: Discount | None,
    item: Item,
    unit: int,
    currency: str,
    terms: _Terms | None = None,
) -> int:
    """What an automatic discount takes off one unit of `item` priced `unit` minor units:
    its percentage, rounded half up to what Stripe charges in the currency."""
    if promotion is None or not promotion.is_percent or not covers(promotion, item, terms):
        return 0
    assert promotion.percent_off is not None
    exact = Fraction(unit) * Fraction(promotion.percent_off) / 100
    step = _step(currency)
    cut = (2 * exact.numerator + step * exact.denominator) // (2 * step * exact.denominator) * step
    return min(unit, cut)


def best_automatic(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    units: Sequence[int],
    shipping_saving: Callable[[], int],
    now: datetime | None = None,
    terms: _Terms | None = None,
) -> Discount | None:
    """The automatic discount a cart gets: of those that fit it (rules and uses), the one that
    takes most off; a tie goes to the one made first. `shipping_saving()` is what free shipping
    would save it (its cheapest shipping rate)."""
    now = now or timezone.now()
    terms = terms or _terms()
    list_subtotal = sum(unit * line.quantity for unit, line in zip(units, lines, strict=True))
    best: tuple[int, Discount] | None = None
    email, user_id = ("", None)
    customer_read = False
    for promotion in automatic_discounts(now=now, terms=terms):
        cart = Cart(currency=order.currency, lines=lines, subtotal=list_subtotal)
        if refusal(promotion, cart, now=now, terms=terms) is not None:
            continue
        if promotion.is_free_shipping:
            saving = shipping_saving()
        else:
            saving = sum(
                unit_cut(promotion, line.item, unit, order.currency, terms) * line.quantity
                for unit, line in zip(units, lines, strict=True)
            )
        if saving <= 0 or (best is not None and saving <= best[0]):
            continue
        if counts_uses(promotion):
            if not customer_read:
                email, user_id = customer_of(order) if order.pk else ("", None)
                customer_read = True
            if use_refusal(promotion, order_id=order.pk, email=email, user_id=user_id):
                continue
        best = (saving, promotion)
    return best[1] if best else None


def promotion_label(promotion: Discount) -> str:
    """How a product page names an automatic discount: "−10% until Sunday"."""
    if promotion.is_free_shipping:
        what = _("Free shipping")
    else:
        what = f"−{percent(promotion.percent_off or Decimal(0))}%"
    if promotion.valid_until:
        until = timezone.localtime(promotion.valid_until)
        days = (until.date() - timezone.localdate()).days
        when = date_format(until, "l") if 0 <= days < 7 else date_format(until, "DATE_FORMAT")
        return _("%(what)s until %(when)s") % {"what": what, "when": when}
    return what


def promotion_for(item: Item, *, now: datetime | None = None) -> Discount | None:
    """The automatic discount a product page shows for `item`: the largest percentage that
    covers it in its currency (uses and minimums are the cart's to check)."""
    found = [
        promotion
        for promotion in automatic_discounts(now=now)
        if promotion.is_percent
        and covers(promotion, item)
        and not minimum(promotion, item.currency)
    ]
    return max(found, key=lambda d: (d.percent_off or 0, -d.pk), default=None)


def lines_covered(
    discount: Discount, lines: Iterable[OrderLine], terms: _Terms | None = None
) -> list[bool]:
    terms = terms or _terms()
    return [covers(discount, line.item, terms) for line in lines]
