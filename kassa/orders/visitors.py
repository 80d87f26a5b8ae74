"""Who an order belongs to: a browser's visitor token and, when signed in, a user account."""

from dataclasses import dataclass

from django.db.models import Q

from kassa.orders.models import Order

PAID = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)


@dataclass(frozen=True)
class Visitor:
    token: str
    user_id: int | None
    # The token was made for this request: the visitor has no orders yet to look for.
    is_new: bool = False
    # Where the request came from (the client's address), for the units one address may hold
    # in unpaid payments (kassa.orders.holds); "" when unknown.
    address: str = ""
    # A signed-in customer's e-mail: the orders paid with it are theirs too, on any device,
    # also those paid before the account existed.
    email: str = ""

    def owns(self) -> Q:
        """The orders this visitor may see: made in this browser, or by their user account."""
        mine = Q(visitor_token=self.token) if self.token else Q(pk__in=[])
        if self.user_id is not None:
            mine |= Q(user_id=self.user_id)
        if self.email:
            mine |= Q(email__iexact=self.email, status__in=PAID)
        return mine
