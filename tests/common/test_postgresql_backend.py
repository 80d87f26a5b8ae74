"""The PostgreSQL backend's check of a kept connection (kassa.common.postgresql): no round trip
while the connection is well, and a connection the server ended replaced before a request uses
it, as Django's `SELECT 1` would."""

import pytest
from django.db import connection, transaction

from kassa.catalog.models import Item
from tests.postgres import end_its_backend, wire

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's connections"),
]


def _a_new_request() -> None:
    """What Django does as a request starts (the test client leaves it out)."""
    connection.close_if_unusable_or_obsolete()


def test_the_first_query_of_a_request_costs_no_extra_round_trip() -> None:
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    connection.ensure_connection()
    _a_new_request()
    with wire(connection) as sent:
        assert Item.objects.count() == 0
    assert sent.round_trips == 1  # the query's own: no SELECT 1 before it


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it() -> None:
    connection.ensure_connection()
    ended = end_its_backend(connection)
    _a_new_request()

    assert Item.objects.count() == 0  # not "terminating connection due to administrator command"
    assert connection.connection.info.backend_pid != ended


def test_an_ended_connection_is_not_usable_and_a_well_one_is() -> None:
    connection.ensure_connection()
    assert connection.is_usable()
    end_its_backend(connection)
    assert not connection.is_usable()
    connection.close()  # as Django does with a connection found unusable


def test_inside_a_transaction_the_check_asks_the_server() -> None:
    with transaction.atomic():
        Item.objects.count()
        with wire(connection) as sent:
            assert connection.is_usable()
        assert sent.round_trips == 1  # SELECT 1: the socket says nothing of a transaction
