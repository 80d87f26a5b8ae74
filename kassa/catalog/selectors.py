from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from kassa.catalog.models import Item


def item_list() -> QuerySet[Item]:
    return Item.objects.all()


def item_get(*, item_id: int) -> Item:
    return get_object_or_404(Item, pk=item_id)
