"""Delivery is safe to point anywhere: non-public addresses refused unless allowed, the name
resolved once and that address connected to, no redirect followed, the answer capped, the
attempt ended by its deadline."""

import ipaddress
import socket
import threading
from typing import Any

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.integrations import transport
from tests.webhook_receiver import Receiver

BODY = b'{"type":"test"}'


def post(url: str, **kwargs: Any) -> transport.Answer:
    return transport.post(url, body=BODY, headers={"webhook-id": "evt_1"}, **kwargs)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # a cloud's metadata service
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused_without_the_setting(
    address: str, settings: SettingsWrapper
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(transport.Refused):
        transport.check_address(ipaddress.ip_address(address))


def test_public_addresses_pass(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    transport.check_address(ipaddress.ip_address("93.184.215.14"))
    transport.check_address(ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"))


def test_a_loopback_receiver_is_never_called_without_the_setting(
    receiver: Receiver, settings: SettingsWrapper
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    settings.DEBUG = True  # http allowed; the address still is not
    answer = post(receiver.url)
    assert answer.status is None
    assert "127.0.0.1 is a loopback address" in answer.error
    answer = post(f"http://localhost:{receiver.port}/hooks")  # a name that resolves to one
    assert answer.status is None
    assert "loopback" in answer.error
    assert receiver.received == []


def test_plain_http_needs_the_setting_or_debug(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    settings.DEBUG = False
    with pytest.raises(transport.Refused, match="https"):
        transport.check_url("http://hooks.example.com/in")
    for url in ("ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "https:///x"):
        with pytest.raises(transport.Refused):
            transport.check_url(url)
    transport.check_url("https://hooks.example.com/in")


def test_the_name_is_resolved_once_and_that_address_is_connected_to(
    receiver: Receiver,
) -> None:
    looked_up: list[str] = []

    def rebinding(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        """First a harmless address, then (a rebinding attack) another one."""
        looked_up.append(host)
        address = "127.0.0.1" if len(looked_up) == 1 else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    answer = post(f"http://hooks.example.test:{receiver.port}/in?x=1", resolver=rebinding)
    assert answer.ok
    assert answer.address == "127.0.0.1"
    assert looked_up == ["hooks.example.test"]
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/in?x=1"
    assert request.body == BODY


def test_a_name_with_only_private_addresses_is_refused(settings: SettingsWrapper) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    def private(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    answer = post("https://hooks.example.test/in", resolver=private)
    assert answer.status is None
    assert "10.0.0.7 is a private address" in answer.error


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    elsewhere = Receiver().start()
    try:
        receiver.replies = [(302, {"Location": elsewhere.url}, b"")]
        answer = post(receiver.url)
        assert answer.status == 302
        assert not answer.ok
        assert "not followed" in answer.error
        assert elsewhere.received == []
    finally:
        elsewhere.stop()


def test_a_huge_answer_is_read_only_in_part(receiver: Receiver) -> None:
    receiver.replies = [(200, {}, b"x" * 5_000_000)]
    answer = post(receiver.url)
    assert answer.ok
    assert answer.body == "x" * transport.KEPT


def test_a_receiver_that_never_answers_is_given_up_on(receiver: Receiver) -> None:
    receiver.hold = threading.Event()  # answers after 30 s
    answer = post(receiver.url, timeout=0.5)
    assert answer.status is None
    assert answer.error == "no answer within 0.5 s"
    assert answer.seconds < 30  # given up on before the receiver would have answered
    receiver.hold.set()


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline() -> None:
    """Each byte comes sooner than one read's timeout: only the attempt's deadline ends it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    done = threading.Event()

    def drip() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(100):  # 20 s of headers, a byte every 0.2 s
                if done.wait(0.2):
                    return
                try:
                    connection.sendall(b"X")
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    try:
        answer = post(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=1.0)
    finally:
        done.set()
        server.close()
    assert answer.status is None
    assert answer.error == "no answer within 1 s"
    assert answer.seconds < 20  # before the receiver's drip ended


def test_a_receiver_that_is_down_is_an_answer_too() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    answer = post(f"http://127.0.0.1:{port}/")
    assert answer.status is None
    assert "Connection refused" in answer.error or "ConnectionRefused" in answer.error
