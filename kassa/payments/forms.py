"""What the card page posts before paying: the customer's details and shipping choice."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from kassa.common.errors import Invalid
from kassa.common.forms import IdField, cleaned
from kassa.payments.methods.payment_intent_details import Address, Details, DetailsInvalid


class PaymentDetailsForm(forms.Form):
    # The lengths are the order's fields' (kassa.orders.models.Order), and within what Stripe's
    # metadata values take (500 characters).
    email = forms.EmailField(
        max_length=254, error_messages={"required": _("Please enter your e-mail address.")}
    )
    name = forms.CharField(
        max_length=500, error_messages={"required": _("Please enter your name.")}
    )
    phone = forms.CharField(max_length=40, required=False)
    line1 = forms.CharField(max_length=500, required=False)
    line2 = forms.CharField(max_length=500, required=False)
    postal_code = forms.CharField(max_length=40, required=False)
    city = forms.CharField(max_length=200, required=False)
    state = forms.CharField(max_length=200, required=False)
    country = forms.RegexField(
        regex=r"\A[A-Za-z]{2}\Z",
        required=False,
        error_messages={"invalid": _("The country must be a two-letter code.")},
    )
    shipping_rate = IdField(required=False)

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"]
        if settings.SHOP_COLLECT_PHONE and not phone:
            raise forms.ValidationError(_("Please enter your phone number."))
        return phone


def details_from(data: Any) -> Details:
    """The posted details, or DetailsInvalid naming the first problem."""
    form = PaymentDetailsForm(data)
    try:
        fields = cleaned(form)
    except Invalid as exc:  # the same kind, with the code of these details
        raise DetailsInvalid(str(exc)) from exc
    address = None
    if fields["line1"] or fields["city"] or fields["country"]:
        if not (fields["line1"] and fields["city"] and fields["country"]):
            raise DetailsInvalid(_("Please enter the street, city and country."))
        address = Address(
            line1=fields["line1"],
            line2=fields["line2"],
            postal_code=fields["postal_code"],
            city=fields["city"],
            state=fields["state"],
            country=fields["country"].upper(),
        )
    return Details(
        email=fields["email"],
        name=fields["name"],
        phone=fields["phone"],
        address=address,
        shipping_rate_id=fields["shipping_rate"],
    )
