"""Writes to the catalog."""

from django.db import transaction

from kassa.catalog import images, revision
from kassa.catalog.models import Item, Product


@transaction.atomic
def item_save(*, item: Item, new_image: images.CheckedImage | None = None) -> Item:
    """Save `item`; with `new_image`, store it and the sizes the pages show first. An item whose
    image was cleared loses its sizes too. Stored files are never deleted here: named by their
    content, they may be another item's too (and an older page may still show them)."""
    if new_image is not None:
        item.image = images.store_original(new_image)
        card, large = images.renditions(new_image)
        item.card_image = card.name
        item.card_width, item.card_height = card.width, card.height
        item.large_image = large.name
        item.large_width, item.large_height = large.width, large.height
    elif not item.image:
        item.card_image = item.large_image = ""
        item.card_width = item.card_height = item.large_width = item.large_height = 0
    item.save()
    return item


@transaction.atomic
def product_save(*, product: Product) -> Product:
    """Save `product`. Taking it off sale takes its variants off sale with it (so none can be
    bought through /buy/<id> or a cart), and putting it back on sale puts them back."""
    was_active = (
        Product.objects.filter(pk=product.pk).values_list("is_active", flat=True).first()
        if product.pk
        else None
    )
    product.save()
    if was_active is not None and was_active != product.is_active:
        product.variants.update(is_active=product.is_active)
        revision.bump()
    return product
