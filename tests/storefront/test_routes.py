"""Ids in paths: one `id` converter hands views ints, and a malformed id is still a 404."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern

from tests.factories import ItemFactory
from tests.payments.test_order_checkout import JSON, cart

pytestmark = pytest.mark.django_db
NO_ITEM = {"error": "There is no such item.", "code": "not_found"}
NO_ORDER = {"error": "There is no such order.", "code": "not_found"}


def test_views_receive_ids_as_ints() -> None:
    assert resolve("/orders/12/lines/34/").kwargs == {"order_id": 12, "line_id": 34}
    assert resolve("/buy/7").kwargs == {"item_id": 7}
    assert reverse("orders:line", args=[1, 2]) == "/orders/1/lines/2/"


def test_every_route_takes_its_ids_through_the_id_converter() -> None:
    def routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
        found = []
        for entry in patterns:
            if isinstance(entry.pattern, RoutePattern):
                route = prefix + str(entry.pattern)
                if isinstance(entry, URLResolver):
                    found += routes(entry.url_patterns, route)
                elif not route.startswith("admin/"):
                    found.append(route)
        return found

    shop = routes(get_resolver().url_patterns)
    assert "orders/<id:order_id>/lines/<id:line_id>/" in shop
    assert [route for route in shop if "<str:" in route or "<int:" in route] == []


@pytest.mark.parametrize("raw_id", ["abc", "1.5", "-1", "١", "0x10", "1" * 19])
def test_a_malformed_id_on_a_json_endpoint_is_its_json_404(client: Client, raw_id: str) -> None:
    assert client.get(f"/buy/{raw_id}").json() == NO_ITEM
    assert client.get(f"/item/{raw_id}/buy/").json() == NO_ITEM
    assert client.post(f"/item/{raw_id}/payment-intent/").json() == NO_ITEM
    assert client.get(f"/orders/{raw_id}/buy/").json() == NO_ORDER
    response = client.post(f"/orders/{raw_id}/payment-intent")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NO_ORDER


def test_a_malformed_id_on_a_page_is_json_to_a_json_client_only(client: Client) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    line = f"/orders/{order.pk}/lines/x1/"
    assert client.post(line, {"quantity": "2"}, headers=JSON).json() == NO_ORDER
    assert client.post("/item/abc/add-to-order/", headers=JSON).json() == NO_ITEM
    for path in (line, "/orders/abc/", "/item/abc/pay/", "/orders/abc/pay/"):
        page = client.get(path)
        assert page.status_code == 404
        assert "Not found" in page.text
