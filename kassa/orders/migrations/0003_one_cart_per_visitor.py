"""One open order per visitor token, enforced by the database (kassa/orders/cart_merge.py).

Before the constraint, a visitor's older open orders beside their newest (made by double-clicks
and concurrent adds, before this) stop being carts: they keep their user, if any, and lose the
visitor token, so the newest stays the visitor's cart, as it was already (the cart is the newest
open order) and nothing is deleted.
"""

from django.db import migrations, models
from django.db.models import Count


def set_aside_older_carts(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    doubled = (
        Order.objects.filter(status="open")
        .exclude(visitor_token="")
        .values("visitor_token")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("visitor_token", flat=True)
    )
    for token in list(doubled):
        carts = Order.objects.filter(status="open", visitor_token=token).order_by(
            "-created_at", "-id"
        )
        older = list(carts.values_list("pk", flat=True))[1:]
        Order.objects.filter(pk__in=older).update(visitor_token="")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_stripe_ids_moved_to_payments"),
    ]

    operations = [
        migrations.RunPython(set_aside_older_carts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open"), models.Q(("visitor_token", ""), _negated=True)),
                fields=("visitor_token",),
                name="order_one_cart_per_visitor",
            ),
        ),
    ]
