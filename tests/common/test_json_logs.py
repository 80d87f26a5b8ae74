"""LOG_FORMAT=json: each record one line of JSON, whatever its message, traceback or atoms."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from gunicorn.glogging import Logger

from kassa.common.json_logs import JsonFormatter
from kassa.common.logs import RequestIdFilter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The app's "kassa" loggers written as LOG_FORMAT=json writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("kassa")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_a_requests_lines_carry_its_request_id(json_log: io.StringIO) -> None:
    response = Client().post(
        "/stripe/webhook/", b"{}", content_type="application/json", headers={"X-Request-ID": "r-42"}
    )
    assert response.status_code == 400
    logged = lines(json_log)
    assert logged
    rejected = [line for line in logged if "rejected a Stripe webhook" in str(line["message"])]
    assert rejected[0]["request_id"] == "r-42"
    assert rejected[0]["level"] == "WARNING"
    assert rejected[0]["logger"] == "kassa.storefront.views.stripe_webhook"


def test_a_traceback_and_odd_characters_stay_on_one_line(json_log: io.StringIO) -> None:
    logger = logging.getLogger("kassa.test")
    try:
        raise ValueError('a "quoted"\nmulti-line problem\x00')
    except ValueError:
        logger.exception("it failed:\n%s", "line two \u2028 and a \x1b escape")
    text = json_log.getvalue()
    assert text.count("\n") == 1  # one record, one line
    (line,) = lines(json_log)
    assert line["message"] == "it failed:\nline two \u2028 and a \x1b escape"
    assert "ValueError" in str(line["exception"])
    assert line["request_id"] == "-"  # outside a request


def test_gunicorns_access_line_becomes_fields() -> None:
    stream = io.StringIO()
    cfg = SimpleNamespace(
        access_log_format='%(h)s "%(m)s %(U)s" %(s)s', accesslog="-", logconfig=None
    )
    # gunicorn's own Logger.access, without the handlers its setup() would install.
    log = Logger.__new__(Logger)
    log.cfg = cfg
    log._access_log_enabled = True
    log.access_log = logging.getLogger("gunicorn.access")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    response = SimpleNamespace(status="200 OK", sent=123, headers=[("X-Request-ID", "abc")])
    request = SimpleNamespace(headers=[("User-Agent", 'curl "quoted"')])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": '/item/1/?q="x"',
        "PATH_INFO": '/item/1/"x"',
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(log.access_log, "handlers", [handler])
        patch.setattr(log.access_log, "propagate", False)
        patch.setattr(log.access_log, "level", logging.INFO)
        log.access(response, request, environ, timedelta(milliseconds=42))
    (line,) = lines(stream)
    assert line["method"] == "GET"
    assert line["path"] == '/item/1/"x"'  # gunicorn's escaping undone, JSON's own applied
    assert line["status"] == 200
    assert line["bytes"] == 123
    assert line["duration_ms"] == 42
    assert line["request_id"] == "abc"
    assert line["remote"] == "192.0.2.1"
    assert "q=" not in json.dumps(line)  # no query string, as in the text line
