"""What each discount brought: the paid orders that took it (as their code or their automatic
discount), the payments being made with it, and the money those orders brought in."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from kassa.common.money import format_amount, from_minor
from kassa.orders.models import Discount, DiscountUse, Order

PAID = [Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED]


def _paid_with(discount: object) -> Q:
    return Q(status__in=PAID) & (Q(discount=discount) | Q(promotion=discount))


def with_uses(discounts: QuerySet[Discount]) -> QuerySet[Discount]:
    """`discounts` with `paid_uses` (paid orders that took it) and `held_uses` (payments
    being made with it), each one subquery of the list's query."""
    # Without the models' default order: PostgreSQL refuses an ORDER BY on a column the count
    # does not group by.
    paid = (
        Order.objects.filter(_paid_with(OuterRef("pk")))
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    held = (
        DiscountUse.objects.filter(discount=OuterRef("pk"), state=DiscountUse.State.HELD)
        .order_by()
        .annotate(one=Value(1))
        .values("one")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return discounts.annotate(
        paid_uses=Coalesce(Subquery(paid, output_field=IntegerField()), 0),
        held_uses=Coalesce(Subquery(held, output_field=IntegerField()), 0),
    )


def sales(discount: Discount) -> list[tuple[str, int, int]]:
    """(currency, paid orders, what they brought in after refunds, in minor units) per
    currency the discount was paid in."""
    rows = (
        Order.objects.filter(_paid_with(discount))
        .values("currency")
        .annotate(orders=Count("pk"), revenue=Sum(F("amount_paid") - F("amount_refunded")))
        .order_by("currency")
    )
    return [(row["currency"], row["orders"], int(row["revenue"] or 0)) for row in rows]


def sales_text(discount: Discount) -> str:
    return " · ".join(
        f"{orders} × {format_amount(from_minor(revenue, currency), currency)}"
        for currency, orders, revenue in sales(discount)
    )
