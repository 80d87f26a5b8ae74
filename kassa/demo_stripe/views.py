"""The stand-in's HTTP side: Stripe's API (for the shop's client), the demo Checkout page, the
card form's confirm call, and a small dashboard of what the stand-in holds. Every one answers
404 unless demo payments are on."""

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from kassa.demo_stripe import api, events
from kassa.demo_stripe.encoding import parse_form
from kassa.demo_stripe.models import DemoObject
from kassa.demo_stripe.pages import CheckoutForm, ConfirmForm, session_lines
from kassa.demo_stripe.payments import (
    Declined,
    Details,
    complete_session,
    confirm_intent,
    settle_session,
)
from kassa.demo_stripe.payments import declined as card_declined

View = Callable[..., HttpResponse]


def demo_only(view: View) -> View:
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SHOP_DEMO_PAYMENTS:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _stripe_error(error: api.StripeError) -> JsonResponse:
    return JsonResponse(error.payload(), status=error.status)


# Stripe's API is called by the shop's server with its secret key, never by a browser with a
# cookie: there is no session to forge a request for, so no CSRF token to ask for.
@csrf_exempt
@demo_only
def stripe_api(request: HttpRequest, path: str) -> HttpResponse:
    if request.headers.get("Authorization") != f"Bearer {settings.STRIPE_API_KEY}":
        return JsonResponse(
            {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}},
            status=401,
        )
    _, body = parse_form(request.body.decode(errors="replace") if request.method == "POST" else "")
    query: dict[str, str] = {key: str(value) for key, value in request.GET.items()}
    key = request.headers.get("Idempotency-Key")
    replay_id = ""
    if request.method == "POST" and key:
        # A retried POST gets the first answer again, as Stripe gives it.
        replay_id = "idem_" + hashlib.sha256(f"{path}:{key}".encode()).hexdigest()[:40]
        earlier = DemoObject.objects.filter(id=replay_id).first()
        if earlier is not None:
            return JsonResponse(earlier.data["body"], status=earlier.data["status"])
    try:
        answer, status = api.dispatch(request.method or "GET", f"/{path}", body, query), 200
    except api.StripeError as error:
        answer, status = error.payload(), error.status
    if replay_id and status < 500:
        DemoObject.objects.get_or_create(
            id=replay_id,
            defaults={"kind": "idempotency", "data": {"status": status, "body": answer}},
        )
    return JsonResponse(answer, status=status, headers={"Request-Id": api.new_id("req")})


@demo_only
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        session = api.load("checkout.session", session_id)
    except api.StripeError:
        raise Http404 from None
    form = CheckoutForm(session, request.POST or None)
    error = ""
    if request.method == "POST" and session["status"] == "open":
        if request.POST.get("action") == "cancel":
            return redirect(session["cancel_url"] or "/")
        if form.is_valid():
            data = form.cleaned_data
            if card_declined(data["card_number"]):
                error = "Your card was declined. (Demo: 4000 0000 0000 0002 is always declined.)"
            else:
                details = Details(
                    email=data["email"],
                    name=data["name"],
                    phone=data.get("phone") or "",
                    address=form.address(),
                    shipping_option=int(data.get("shipping_option") or 0),
                )
                try:
                    complete_session(
                        session_id, details, pending=request.POST.get("action") == "pending"
                    )
                except api.StripeError as exc:
                    error = exc.message
                else:
                    return redirect(
                        session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
                    )
    return render(
        request,
        "demo_stripe/checkout.html",
        {
            "session": session,
            "form": form,
            "error": error,
            "lines": session_lines(session),
        },
        status=400 if error else 200,
    )


@demo_only
@require_POST
def settle(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        settle_session(session_id, succeeded=request.POST.get("outcome") == "succeeded")
    except api.StripeError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    return redirect("demo_stripe:dashboard")


@demo_only
@require_POST
def resend(request: HttpRequest, event_id: str) -> HttpResponse:
    try:
        event = api.load("event", event_id)
    except api.StripeError:
        raise Http404 from None
    events.deliver(event)
    return redirect("demo_stripe:dashboard")


@demo_only
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = DemoObject.objects.filter(kind__in=["checkout.session", "payment_intent", "event"])
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for row in rows[:300]:
        by_kind.setdefault(row.kind, []).append(row.data)
    return render(
        request,
        "demo_stripe/dashboard.html",
        {
            "sessions": by_kind.get("checkout.session", [])[:50],
            "intents": by_kind.get("payment_intent", [])[:50],
            "events": by_kind.get("event", [])[:50],
        },
    )


# Stripe.js's confirm call comes from the card form's page with the intent's client secret,
# which is what proves the caller may pay it (as with Stripe), not a cookie.
@csrf_exempt
@demo_only
@require_POST
def confirm(request: HttpRequest) -> JsonResponse:
    try:
        form = ConfirmForm(json.loads(request.body or b"{}"))
    except (ValueError, TypeError):
        return JsonResponse({"error": {"message": "Malformed request."}}, status=400)
    if not form.is_valid():
        return JsonResponse({"error": {"message": "Please complete the card details."}}, status=400)
    try:
        intent = confirm_intent(form.cleaned_data["client_secret"], form.cleaned_data["card"])
    except Declined:
        return JsonResponse(
            {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "message": "Your card was declined.",
                }
            },
            status=402,
        )
    except api.StripeError as exc:
        return _stripe_error(exc)
    return JsonResponse({"status": intent["status"], "id": intent["id"]})
