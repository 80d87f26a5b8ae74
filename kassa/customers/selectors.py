"""What the shop remembers of a signed-in customer for their next purchase."""

from kassa.common.address import Address
from kassa.customers.models import SavedAddress


def last_shipping_address(*, user_id: int) -> Address | None:
    """The customer's newest saved address (kept from their last paid order, or edited since);
    None for someone with no account or no address."""
    kept = SavedAddress.objects.filter(customer__user_id=user_id).first()
    return kept.address if kept is not None else None
