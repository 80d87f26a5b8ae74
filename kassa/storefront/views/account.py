"""The customer's account: signing in by an e-mailed code (or its link), the account page,
signing out, the download of their personal data, and deleting the account."""

import json
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kassa.common.forms import cleaned
from kassa.common.http import page_or_json
from kassa.common.throttle import sign_in_limited
from kassa.customers.addresses import address_remove, address_update
from kassa.customers.models import ReturnRequest
from kassa.customers.personal_data import customer_delete, customer_orders, personal_data_export
from kassa.customers.returns import Status as ReturnStatus
from kassa.customers.sign_in import normalize_email, sign_in_request, sign_in_with_code
from kassa.customers.sign_in import sign_in_with_link as use_link
from kassa.storefront.accounts import (
    PENDING_EMAIL,
    complete_sign_in,
    current_customer,
    sign_in_link,
)
from kassa.storefront.forms import (
    ConfirmForm,
    SavedAddressForm,
    SignInCodeForm,
    SignInEmailForm,
)

NO_SUCH_ADDRESS = gettext_lazy("There is no such address.")


def _sign_in_page(**_kwargs: str) -> str:
    return reverse("customers:sign-in")


def _code_page(**_kwargs: str) -> str:
    return reverse("customers:code")


@never_cache
@page_or_json("GET")
def account(request: HttpRequest) -> HttpResponse:
    """/account/: the customer's account; anyone else is sent to sign in."""
    customer = current_customer(request)
    if customer is None:
        return redirect("customers:sign-in")
    # Those of the customer's orders, also asked for through an order's signed link.
    returns = (
        ReturnRequest.objects.filter(order__in=customer_orders(customer))
        .select_related("order")
        .order_by("-created_at", "-id")[:20]
    )
    return render(
        request,
        "kassa/account.html",
        {
            "customer": customer,
            "returns": returns,
            "addresses": list(customer.addresses.all()),
            "to_decide": ReturnStatus.REQUESTED,
        },
    )


@never_cache
@page_or_json("GET", "POST", back=_sign_in_page)
def sign_in(request: HttpRequest) -> HttpResponse:
    """The first step: the customer's e-mail. The answer is the same whether or not it has an
    account: a code goes to it either way (the first sign-in makes the account)."""
    if current_customer(request) is not None:
        return redirect("customers:account")
    if request.method == "GET":
        return render(request, "kassa/sign_in.html", {"form": SignInEmailForm()})
    email = normalize_email(cleaned(SignInEmailForm(request.POST))["email"])
    sign_in_limited(request, email=email)
    sign_in_request(email=email, language=get_language() or "", link=sign_in_link)
    request.session[PENDING_EMAIL] = email
    return redirect("customers:code")


@never_cache
@page_or_json("GET", "POST", back=_code_page)
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """The second step: the code from the mail."""
    email = request.session.get(PENDING_EMAIL, "")
    if not email:
        return redirect("customers:sign-in")
    if request.method == "GET":
        return render(
            request, "kassa/sign_in_code.html", {"form": SignInCodeForm(), "email": email}
        )
    code = cleaned(SignInCodeForm(request.POST))["code"]
    sign_in_limited(request)
    customer = sign_in_with_code(email=email, code=code)
    complete_sign_in(request, customer)
    messages.success(request, _("You are signed in."))
    return redirect("customers:account")


@never_cache
@page_or_json("GET", "POST", back=_sign_in_page)
def sign_in_with_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the mail: a button to sign in with it. Only its POST signs in, so a mail
    program that opens links to look at them does not use it up."""
    if request.method == "GET":
        return render(request, "kassa/sign_in_link.html", {"token": token})
    sign_in_limited(request)
    customer = use_link(token=token)
    complete_sign_in(request, customer)
    messages.success(request, _("You are signed in."))
    return redirect("customers:account")


@never_cache
@page_or_json("POST")
def sign_out(request: HttpRequest) -> HttpResponse:
    """POST /account/logout/: the session ends (a new, empty one begins)."""
    logout(request)
    return redirect("catalog:catalog")


@never_cache
@page_or_json("GET")
def personal_data(request: HttpRequest) -> HttpResponse:
    """/account/data/: everything the shop keeps about the customer, as a JSON download."""
    customer = current_customer(request)
    if customer is None:
        return redirect("customers:sign-in")
    data = personal_data_export(customer=customer)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    day = timezone.now().date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="kassa-personal-data-{day}.json"'
    return response


@never_cache
@page_or_json("GET", "POST", back=lambda: reverse("customers:delete"))
def delete_account(request: HttpRequest) -> HttpResponse:
    """/account/delete/: a form to confirm; its POST deletes the account and erases the
    customer's personal data (the orders stay, without it)."""
    customer = current_customer(request)
    if customer is None:
        return redirect("customers:sign-in")
    if request.method == "GET":
        return render(request, "kassa/account_delete.html", {"form": ConfirmForm()})
    cleaned(ConfirmForm(request.POST))
    customer_delete(customer_id=customer.pk, source="the customer")
    logout(request)
    messages.success(request, _("Your account and your personal data were deleted."))
    return redirect("catalog:catalog")


def _address_page(address_id: int) -> str:
    return reverse("customers:address", args=[address_id])


@never_cache
@page_or_json("GET", "POST", not_found=NO_SUCH_ADDRESS, back=_address_page)
def edit_address(request: HttpRequest, address_id: int) -> HttpResponse:
    """/account/addresses/<id>/: change a saved address."""
    customer = current_customer(request)
    if customer is None:
        return redirect("customers:sign-in")
    kept = customer.addresses.filter(pk=address_id).first()
    if kept is None:
        raise Http404("No such address.")
    if request.method == "GET":
        form = SavedAddressForm(initial=asdict(kept.address))
        return render(request, "kassa/account_address.html", {"form": form, "address": kept})
    address_update(
        customer=customer, address_id=address_id, address=SavedAddressForm(request.POST).address()
    )
    messages.success(request, _("The address was saved."))
    return redirect("customers:account")


@never_cache
@page_or_json("POST", not_found=NO_SUCH_ADDRESS)
def remove_address(request: HttpRequest, address_id: int) -> HttpResponse:
    """POST /account/addresses/<id>/remove/: forget a saved address."""
    customer = current_customer(request)
    if customer is None:
        return redirect("customers:sign-in")
    if not address_remove(customer=customer, address_id=address_id):
        raise Http404("No such address.")
    messages.success(request, _("The address was removed."))
    return redirect("customers:account")
