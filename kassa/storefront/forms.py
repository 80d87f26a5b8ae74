"""What the shop's pages and JSON endpoints accept: the catalog's query, the cart's posts, Buy
now's quantity, the card page's details and Stripe's cancel link. Each form turns what was sent
into typed values (or `Invalid`, kassa.common.forms.cleaned); what they mean is for the domain."""

import functools
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

from kassa.catalog.selectors import ProductFilters
from kassa.common.address import Address, Contact
from kassa.common.errors import Invalid
from kassa.common.forms import ButtonInput, DigitsField, IdField, cleaned
from kassa.orders.models import MAX_QUANTITY
from kassa.payments.methods.checkout_session import is_cancel_token
from kassa.payments.methods.payment_intent_details import Details, DetailsInvalid

# --- The catalog ---------------------------------------------------------------------------------

# Longer searches are cut here: no product name needs more, and a query's cost grows with it.
QUERY_MAX_LENGTH = 200
# And past this many words: each is another condition on every item a search looks at.
QUERY_MAX_WORDS = 8
_SPACES = re.compile(r"\s+")


class SearchQueryField(forms.CharField):
    """What the visitor typed, made searchable: Unicode compatibility forms folded (a
    full-width "ｍｕｇ" is "mug"), control and format characters (NUL among them, which
    PostgreSQL refuses in text) dropped, spaces collapsed, and cut at QUERY_MAX_LENGTH
    characters and QUERY_MAX_WORDS words. So any query is either words to look for or nothing,
    never an error."""

    def to_python(self, value: Any) -> str:
        text = unicodedata.normalize("NFKC", str(value or ""))
        text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
        text = _SPACES.sub(" ", text).strip()[:QUERY_MAX_LENGTH].strip()
        return " ".join(text.split(" ")[:QUERY_MAX_WORDS])


class CatalogQueryForm(forms.Form):
    page = DigitsField(max_digits=9, message=_("There is no such page."), required=False)
    q = SearchQueryField(required=False)

    def clean_page(self) -> int:
        number = self.cleaned_data.get("page")
        if number is None:
            return 1
        if number < 1:
            raise forms.ValidationError(_("There is no such page."), code="invalid")
        return int(number)


class _ManyValues(forms.Field):
    """Every value sent under the field's name (`?option=Size:M&option=Size:L`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        values = [str(v).strip() for v in (value or []) if str(v).strip()]
        if len(values) > 20 or any(len(v) > 201 or "\x00" in v for v in values):
            raise forms.ValidationError(_("Too many filters."), code="invalid")
        return values


class CollectionQueryForm(CatalogQueryForm):
    """A collection's page: its page number and search, and its filters: option values
    (`option=Size:M`, several allowed), a price range and "in stock only"."""

    option = _ManyValues(required=False)
    min = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=3)
    max = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=3)
    in_stock = forms.BooleanField(required=False)

    def filters(self) -> ProductFilters:
        """What the filters ask for. Read it, never change it: it is worked out once per form,
        and the form bound to no query is shared by all of a process's requests (page_query)."""
        return self._filters

    @functools.cached_property
    def _filters(self) -> ProductFilters:
        options: dict[str, list[str]] = {}
        for pair in self.cleaned_data["option"]:
            name, _sep, value = pair.partition(":")
            if name and value:
                options.setdefault(name, []).append(value)
        return ProductFilters(
            options={name: sorted(set(values)) for name, values in sorted(options.items())},
            min_price=self.cleaned_data["min"],
            max_price=self.cleaned_data["max"],
            in_stock=self.cleaned_data["in_stock"],
        )

    def canonical_params(self) -> list[tuple[str, str]]:
        """The query, filters first, in one order: one address (and one shared copy) per
        result, however the visitor's browser ordered the parameters."""
        filters = self.filters()
        params = [
            ("option", f"{name}:{value}")
            for name, values in filters.options.items()
            for value in values
        ]
        if filters.min_price is not None:
            params.append(("min", str(filters.min_price.normalize())))
        if filters.max_price is not None:
            params.append(("max", str(filters.max_price.normalize())))
        if filters.in_stock:
            params.append(("in_stock", "1"))
        if self.cleaned_data["q"]:
            params.append(("q", self.cleaned_data["q"]))
        return params

    def canonical_query(self) -> str:
        return urlencode(self.canonical_params())


QueryForm = TypeVar("QueryForm", CatalogQueryForm, CollectionQueryForm)


def page_query(form_class: type[QueryForm], query: Mapping[str, Any]) -> QueryForm:
    """`form_class` bound to a page's query and cleaned. Most views of a page send no query,
    and a form bound to none is the same every time: it is made once per process (cleaning it
    cost more CPU than serving the page's shared copy). Read it, never change it."""
    if query:
        form = form_class(query)
        form.is_valid()
        return form
    return _unfilled(form_class)


@functools.cache
def _unfilled(form_class: type[QueryForm]) -> QueryForm:
    form = form_class({})
    if not form.is_valid():
        raise ValueError(f"{form_class.__name__} refuses an empty query: {form.errors}")
    return form


# --- The cart and Buy now ------------------------------------------------------------------------

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


class GiftCardRecipientForm(forms.Form):
    """Whom a gift card added to the cart is for, and when it is mailed to them (blank: as
    soon as it is paid; the buyer's own address when no recipient is named)."""

    recipient_email = forms.EmailField(required=False, max_length=254)
    recipient_name = forms.CharField(required=False, max_length=100)
    message = forms.CharField(required=False, max_length=1000, widget=forms.Textarea)
    send_on = forms.DateField(required=False)


class RemoveGiftCardForm(forms.Form):
    """A gift card's Remove button in the cart (the card by its id, never its code)."""

    remove_gift_card = IdField()


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


# --- The card page's details ---------------------------------------------------------------------


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
    # A business buyer's details for the invoice.
    company = forms.CharField(max_length=200, required=False)
    tax_id = forms.CharField(max_length=100, required=False)
    # "Tell me about offers": as Checkout's promotions consent, it allows the one reminder.
    offers = forms.BooleanField(required=False)

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
    address = None  # none given: for goods that are not sent
    if fields["line1"] or fields["city"] or fields["country"]:
        address = Address(
            name=fields["name"],
            line1=fields["line1"],
            line2=fields["line2"],
            postal_code=fields["postal_code"],
            city=fields["city"],
            state=fields["state"],
            country=fields["country"].upper(),
        )
        if not address.is_complete:
            raise DetailsInvalid(_("Please enter the street, city and country."))
    return Details(
        contact=Contact(email=fields["email"], name=fields["name"], phone=fields["phone"]),
        address=address,
        shipping_rate_id=fields["shipping_rate"],
        company=fields["company"].strip(),
        tax_id=fields["tax_id"].strip(),
        promotions=fields["offers"],
    )


# --- Back from Stripe ----------------------------------------------------------------------------


class CancelReturnForm(forms.Form):
    """The query Stripe's cancel_url carries: which order, which of its attempts, and the token
    that shows the shop made the link."""

    order = IdField()
    attempt = IdField()
    token = forms.CharField(max_length=100)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        order, attempt = cleaned.get("order"), cleaned.get("attempt")
        if (
            order is not None
            and attempt is not None
            and not is_cancel_token(cleaned.get("token", ""), order_id=order, attempt=attempt)
        ):
            raise forms.ValidationError("The cancel link was not made for this checkout.")
        return cleaned


# --- Customer accounts and returns ---------------------------------------------------------------


class SignInEmailForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"), max_length=254)


class SignInCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20, strip=True)


class ConfirmForm(forms.Form):
    """A destructive step's box to tick (deleting the account)."""

    confirm = forms.BooleanField(
        label=_("Yes, delete my account and my personal data"),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class ReturnRequestForm(forms.Form):
    """Which lines to return and how many of each (`line-<id>`), and why."""

    reason = forms.CharField(
        label=_("Why are you returning these items?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Please say why you return the items.")},
    )

    def __init__(self, *args: Any, left: dict[int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for line_id in left:
            # How many are left is the service's to say (it knows, under the order's lock).
            self.fields[f"line-{line_id}"] = forms.IntegerField(
                min_value=0, max_value=MAX_QUANTITY, required=False
            )

    def quantities(self) -> dict[int, int]:
        data = cleaned(self)
        return {
            int(name.removeprefix("line-")): int(value or 0)
            for name, value in data.items()
            if name.startswith("line-")
        }


class SavedAddressForm(forms.Form):
    """A saved address as the customer edits it on their account page."""

    name = forms.CharField(label=_("Name"), max_length=500, required=False)
    line1 = forms.CharField(label=_("address line 1"), max_length=500)
    line2 = forms.CharField(label=_("address line 2"), max_length=500, required=False)
    postal_code = forms.CharField(label=_("postal code"), max_length=40, required=False)
    city = forms.CharField(label=_("city"), max_length=200)
    state = forms.CharField(label=_("state or region"), max_length=200, required=False)
    country = forms.ChoiceField(label=_("country"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)
        country.choices = [(code, code) for code in settings.SHOP_SHIPPING_COUNTRIES]

    def address(self) -> Address:
        data = cleaned(self)
        return Address(
            name=data["name"],
            line1=data["line1"],
            line2=data["line2"],
            postal_code=data["postal_code"],
            city=data["city"],
            state=data["state"],
            country=data["country"],
        )
