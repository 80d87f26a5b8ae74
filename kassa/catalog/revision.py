"""The catalog's revision: a token that changes in the same transaction as any item.

The catalog's shared pages (kassa.storefront.shared_pages) are kept under the revision they were
rendered at, so an item, product or collection saved or deleted through the ORM retires every
page that showed it.
`QuerySet.update()` sends no signals: code that changes items in bulk calls `bump()` itself.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from kassa.catalog.models import (
    CatalogRevision,
    Collection,
    CollectionProduct,
    Item,
    Product,
    ProductImage,
)

REVISION_ID = 1

# (revision, when it was read): replaced whole, so threads never see half an update.
_seen: tuple[str, float] = ("", float("-inf"))
# Inside held(): the revision this context has read, once it has ([] until then).
_held: ContextVar[list[str] | None] = ContextVar("catalog_revision_held", default=None)


T = TypeVar("T")


class KeptPerRevision(Generic[T]):
    """`load()`'s value, kept in this process until the catalog revision changes: for what
    every order reads and staff change a few times a year (taxes, shipping rates, discounts'
    rules), saved through models whose saves bump the revision. Call it for the value."""

    _all: "list[KeptPerRevision[object]]" = []

    def __init__(self, load: Callable[[], T]) -> None:
        self._load = load
        # (revision, value): replaced whole, so threads never see half an update.
        self._kept: tuple[str, T] | None = None
        KeptPerRevision._all.append(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        # The revision first, then the rows: what is kept is never older than its revision.
        token = recent()
        kept = self._kept
        if kept is not None and kept[0] == token:
            return kept[1]
        value = self._load()
        self._kept = (token, value)
        return value

    @classmethod
    def forget_all(cls) -> None:
        """Drop every kept value (the tests, whose rollbacks restore older revisions)."""
        for kept in cls._all:
            kept._kept = None


@contextmanager
def held() -> Iterator[None]:
    """Within, the revision is read at most once (where recent() would read it) and kept: a
    page that prices many carts reads it once, not once per cart, and prices them all by the
    same rules. A bump() inside lets the next look read it again."""
    if _held.get() is not None:  # already held by the caller's caller
        yield
        return
    reset = _held.set([])
    try:
        yield
    finally:
        _held.reset(reset)


def recent() -> str:
    """The revision as read at most CATALOG_PAGE_REFRESH_SECONDS ago: how long an item edit may
    take to show on the catalog's pages (what a customer is charged is read at checkout)."""
    held_here = _held.get()
    if held_here:
        return held_here[0]
    token = _recent()
    if held_here is not None:
        held_here.append(token)
    return token


def _recent() -> str:
    global _seen
    token, read_at = _seen
    now = time.monotonic()
    if now - read_at >= settings.CATALOG_PAGE_REFRESH_SECONDS:
        token = current()
        _seen = (token, now)
    return token


def current() -> str:
    """The revision now committed (one row by primary key)."""
    token = CatalogRevision.objects.filter(pk=REVISION_ID).values_list("token", flat=True).first()
    return token or ""


def bump() -> None:
    """A new revision, committed with the caller's transaction."""
    token = uuid.uuid4().hex
    held_here = _held.get()
    if held_here:
        held_here.clear()  # what follows in the same page sees the change
    if not CatalogRevision.objects.filter(pk=REVISION_ID).update(token=token):
        CatalogRevision.objects.update_or_create(pk=REVISION_ID, defaults={"token": token})


def _changed(sender: type[object], **kwargs: object) -> None:
    bump()


def connect() -> None:
    for model in (Item, Product, ProductImage, Collection, CollectionProduct):
        name = model._meta.model_name
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalog-revision-save-{name}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalog-revision-delete-{name}")
