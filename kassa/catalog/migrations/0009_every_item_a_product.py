# Every item becomes a product of one variant, so the catalog (which lists products) shows what
# it showed before: the product takes the item's name, description and a handle made from the
# name; nothing of the item changes but the link to its product.

from django.db import migrations
from django.utils.text import slugify

BATCH = 1000


def _handle(name, taken):
    from kassa.catalog.handles import unidecode_ru

    base = (slugify(unidecode_ru(name)) or "product")[:180]
    handle, n = base, 1
    while handle in taken:
        n += 1
        handle = f"{base}-{n}"
    taken.add(handle)
    return handle


def forwards(apps, schema_editor):
    Item = apps.get_model("catalog", "Item")
    Product = apps.get_model("catalog", "Product")
    taken = set(Product.objects.values_list("handle", flat=True))
    while True:
        items = list(Item.objects.filter(product__isnull=True).order_by("pk")[:BATCH])
        if not items:
            return
        products = Product.objects.bulk_create(
            [
                Product(
                    name=item.name,
                    handle=_handle(item.name, taken),
                    description=item.description,
                    is_active=True,
                )
                for item in items
            ]
        )
        for item, product in zip(items, products, strict=True):
            item.product_id = product.pk
        Item.objects.bulk_update(items, ["product"])


def backwards(apps, schema_editor):
    apps.get_model("catalog", "Item").objects.update(product=None)
    apps.get_model("catalog", "Product").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_products_variants_collections")]

    operations = [migrations.RunPython(forwards, backwards)]
