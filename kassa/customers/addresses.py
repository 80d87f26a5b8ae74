"""A customer's saved addresses: kept from their paid orders, edited or removed by them."""

from dataclasses import asdict

from django.db import transaction
from django.db.models import Q

from kassa.common.address import Address
from kassa.customers.models import Customer, SavedAddress
from kassa.orders.models import Order
from kassa.orders.visitors import PAID


def address_save(*, customer: Customer, address: Address) -> SavedAddress:
    """Keep `address` for the customer: the same address again only becomes the newest."""
    fields = asdict(address)
    with transaction.atomic():
        kept = SavedAddress.objects.select_for_update().filter(customer=customer, **fields).first()
        if kept is not None:
            kept.save(update_fields=["updated_at"])
            return kept
        return SavedAddress.objects.create(customer=customer, **fields)


def address_update(*, customer: Customer, address_id: int, address: Address) -> SavedAddress:
    """Change one of the customer's addresses (another customer's is DoesNotExist)."""
    with transaction.atomic():
        kept = SavedAddress.objects.select_for_update().get(customer=customer, pk=address_id)
        for field, value in asdict(address).items():
            setattr(kept, field, value)
        kept.save()
        return kept


def address_remove(*, customer: Customer, address_id: int) -> bool:
    deleted, _rows = SavedAddress.objects.filter(customer=customer, pk=address_id).delete()
    return bool(deleted)


def addresses_from_orders(*, customer: Customer) -> int:
    """Keep the addresses of the customer's paid orders, oldest first (the newest ends up
    first): what a new account starts with. Returns how many orders had one."""
    orders = Order.objects.filter(
        Q(user_id=customer.user_id) | Q(email__iexact=customer.email), status__in=PAID
    ).order_by("paid_at", "id")
    count = 0
    for order in orders:
        address = order.shipping_address
        if address is not None and address.is_complete:
            address_save(customer=customer, address=address)
            count += 1
    return count


def order_paid(sender: object, *, order_id: int, **kwargs: object) -> None:
    """An order was paid (in its transaction): its address is kept by the customer it belongs
    to, by their user or by their e-mail."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return
    address = order.shipping_address
    if address is None or not address.is_complete:
        return
    owner = Q(user_id=order.user_id) if order.user_id else Q(pk__in=[])
    if order.email:
        owner |= Q(email=order.email.strip().lower())
    customer = Customer.objects.filter(owner).first()
    if customer is not None:
        address_save(customer=customer, address=address)
