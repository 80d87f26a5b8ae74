"""The demo Checkout page's form: what Stripe Checkout asks, as the session asks for it."""

from decimal import Decimal
from typing import Any

from django import forms

from kassa.common.money import format_amount, from_minor
from kassa.demo_stripe.store import StripeError, load


class CheckoutForm(forms.Form):
    email = forms.EmailField(label="Email")
    name = forms.CharField(label="Name", max_length=200)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    line1 = forms.CharField(label="Address", max_length=200, required=False)
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    state = forms.CharField(label="State / region", max_length=100, required=False)
    country = forms.ChoiceField(label="Country", required=False)
    shipping_option = forms.ChoiceField(label="Shipping", required=False, widget=forms.RadioSelect)
    card_number = forms.CharField(label="Card number", max_length=30, initial="4242 4242 4242 4242")

    def __init__(self, session: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        if session.get("customer_email"):
            self.fields["email"].initial = session["customer_email"]
        collection = session.get("shipping_address_collection") or {}
        self.ships = bool(collection)
        countries = collection.get("allowed_countries") or []
        for name in ("line1", "city", "postal_code", "country"):
            self.fields[name].required = self.ships
        if self.ships:
            self._choices("country", [(code, code) for code in countries])
        else:  # nothing to ship: Checkout asks for no address
            for name in ("line1", "line2", "city", "postal_code", "state", "country"):
                del self.fields[name]
        self.asks_phone = (session.get("phone_number_collection") or {}).get("enabled") == "true"
        self.fields["phone"].required = self.asks_phone
        currency = session.get("currency", "usd")
        options = [
            (str(index), _option_label(option, currency))
            for index, option in enumerate(session.get("shipping_options") or [])
        ]
        self._choices("shipping_option", options)
        # As on Stripe's page the first option is chosen until the customer picks another.
        self.fields["shipping_option"].initial = "0" if options else None

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def address(self) -> dict[str, str] | None:
        if not self.ships:
            return None
        data = self.cleaned_data
        return {
            key: data.get(key) or ""
            for key in ("line1", "line2", "city", "postal_code", "state", "country")
        }


class ConfirmForm(forms.Form):
    client_secret = forms.CharField(max_length=200)
    card = forms.CharField(max_length=30)


def _option_label(option: dict[str, Any], currency: str) -> str:
    """ "Standard post — $4.90", as Checkout names a shipping option (its rate's display name)."""
    price = _money(int(option["shipping_amount"]), currency)
    try:
        name = load("shipping_rate", option.get("shipping_rate", "")).get("display_name", "")
    except StripeError:
        name = ""
    return f"{name} — {price}" if name else price


def _money(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


def session_lines(session: dict[str, Any]) -> dict[str, Any]:
    """The session's lines and totals as the page shows them."""
    currency = session.get("currency", "usd")
    lines = []
    for line in session.get("line_items_sent") or []:
        data = line.get("price_data") or {}
        quantity = int(line.get("quantity") or 1)
        unit = int(data.get("unit_amount") or 0)
        lines.append(
            {
                "name": (data.get("product_data") or {}).get("name", ""),
                "quantity": quantity,
                "amount": _money(unit * quantity, currency),
            }
        )
    totals = session.get("total_details") or {}
    return {
        "lines": lines,
        "subtotal": _money(int(session.get("amount_subtotal") or 0), currency),
        "discount": _money(int(totals.get("amount_discount") or 0), currency)
        if totals.get("amount_discount")
        else "",
        "tax": _money(int(totals.get("amount_tax") or 0), currency)
        if totals.get("amount_tax")
        else "",
        "total": _money(int(session.get("amount_total") or 0), currency),
        "zero": Decimal(0),
    }
