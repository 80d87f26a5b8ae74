"""Writes to the catalog."""

from django.db import transaction

from kassa.catalog import images, revision
from kassa.catalog.models import Collection, Item, Product, ProductImage


@transaction.atomic
def item_save(*, item: Item, new_image: images.CheckedImage | None = None) -> Item:
    """Save `item`; with `new_image`, store it and the sizes the pages show first. An item whose
    image was cleared loses its sizes too. Stored files are never deleted here: named by their
    content, they may be another item's too (and an older page may still show them)."""
    if new_image is not None:
        _store_with_renditions(item, new_image)
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


def _store_with_renditions(
    target: Item | ProductImage | Collection, checked: images.CheckedImage
) -> None:
    """The original and the sizes the pages show, stored, on `target`'s fields."""
    target.image = images.store_original(checked)
    card, large = images.renditions(checked)
    target.card_image = card.name
    target.card_width, target.card_height = card.width, card.height
    target.large_image = large.name
    target.large_width, target.large_height = large.width, large.height


@transaction.atomic
def product_image_save(
    *, image: ProductImage, new_image: images.CheckedImage | None = None
) -> ProductImage:
    """Save one picture of a product's gallery; with `new_image`, store it and its sizes first."""
    if new_image is not None:
        _store_with_renditions(image, new_image)
    image.save()
    return image


@transaction.atomic
def collection_save(
    *, collection: Collection, new_image: images.CheckedImage | None = None
) -> Collection:
    """Save `collection`; with `new_image`, store it and its sizes first (a cleared image loses
    its sizes too)."""
    if new_image is not None:
        _store_with_renditions(collection, new_image)
    elif not collection.image:
        collection.card_image = collection.large_image = ""
        collection.card_width = collection.card_height = 0
        collection.large_width = collection.large_height = 0
    collection.save()
    return collection
