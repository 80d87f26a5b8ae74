"""The stand-in's rows: Stripe objects kept as the JSON Stripe answers with."""

import secrets
from typing import Any

from kassa.demo_stripe.models import DemoObject


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def payload(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": "invalid_request_error",
            "message": self.message,
            "param": self.param,
        }
        if self.status == 404:
            error["code"] = "resource_missing"  # as Stripe names an object it does not know
        return {"error": error}


def new_id(prefix: str) -> str:
    return f"{prefix}_test_demo{secrets.token_hex(12)}"


def load(kind: str, object_id: str, *, lock: bool = False) -> dict[str, Any]:
    rows = DemoObject.objects.filter(id=object_id, kind=kind)
    row = (rows.select_for_update() if lock else rows).first()
    if row is None:
        raise StripeError(404, f"No such {kind}: '{object_id}'", param="id")
    return dict(row.data)


def save(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    DemoObject.objects.update_or_create(id=obj["id"], defaults={"kind": kind, "data": obj})
    return obj


def find(kind: str) -> list[dict[str, Any]]:
    return [dict(row.data) for row in DemoObject.objects.filter(kind=kind)]
