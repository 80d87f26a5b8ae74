"""What the cart's forms post: a quantity to add or set, a discount code, the Remove buttons."""

from django import forms
from django.utils.translation import gettext, gettext_lazy

from kassa.common.forms import ButtonInput, DigitsField
from kassa.orders.services import MAX_QUANTITY

# Six digits are more than any quantity needs and few enough to make an int of.
_QUANTITY_DIGITS = 6


class _QuantityForm(forms.Form):
    low = 1

    quantity = DigitsField(
        max_digits=_QUANTITY_DIGITS,
        message=gettext_lazy("The quantity must be a whole number."),
        required=False,
    )

    def clean_quantity(self) -> int:
        quantity: int | None = self.cleaned_data["quantity"]
        if quantity is None:
            return 1  # the item page's form without a number in it adds one
        if not self.low <= quantity <= MAX_QUANTITY:
            # The services refuse it too (they are called from more than forms), in these words.
            raise forms.ValidationError(
                gettext("The quantity must be a whole number from %(low)s to %(high)s.")
                % {"low": self.low, "high": MAX_QUANTITY}
            )
        return quantity


class AddToCartForm(_QuantityForm):
    """The item page's "Add to cart": how many (one when the field is left out)."""


class BuyNowForm(_QuantityForm):
    """Buy now's quantity (`?quantity=N` on the Buy address): the item page's box beside it."""


class LineQuantityForm(_QuantityForm):
    """A cart line's new quantity; 0 takes the line out."""

    low = 0


class RemoveLineForm(forms.Form):
    """A cart line's Remove button, posted to the line's address beside its quantity."""

    remove = forms.BooleanField(widget=ButtonInput)


class DiscountCodeForm(forms.Form):
    """A discount code typed in the cart; whether it is valid is for the order to say."""

    code = forms.CharField(required=False)


class RemoveDiscountForm(forms.Form):
    """The cart's Remove button beside its discount."""

    remove = forms.BooleanField(widget=ButtonInput)
