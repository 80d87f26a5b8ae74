"""One POST to a receiver, safe to point anywhere: the host is resolved once, the address is
checked (no private, loopback, link-local or otherwise non-public one unless
WEBHOOKS_ALLOW_PRIVATE) and the connection goes to that very address, so a DNS answer that
changes between the check and the connection (rebinding) cannot move it; TLS still verifies the
certificate against the host's name. Redirects are never followed (a 3xx is a failure), the
answer read is capped, and the whole attempt ends by its deadline, however slowly the receiver
drips its answer."""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

# At most this much of an answer is read, and this much of it kept in the log.
READ_LIMIT = 64 * 1024
KEPT = 1000

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be called (scheme, address): nothing was sent."""


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, unreachable, timed out)
    body: str  # the first part of the answer, as text
    error: str  # why there is no 2xx answer, for the log
    seconds: float
    address: str  # where the request went (the resolved address)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def http_allowed() -> bool:
    return bool(settings.DEBUG or settings.WEBHOOKS_ALLOW_PRIVATE)


def check_url(url: str) -> None:
    """What can be checked of a URL without resolving it (the admin's form checks this too)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise Refused("Only https:// addresses can receive webhooks.")
    if parts.scheme == "http" and not http_allowed():
        raise Refused(
            "Webhooks go to https:// addresses only (WEBHOOKS_ALLOW_PRIVATE allows http)."
        )
    if not parts.hostname:
        raise Refused("The address has no host.")
    if parts.username or parts.password:
        raise Refused("Put no user or password in the address: the signature proves the sender.")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    check_address(literal)


def _kind(address: Address) -> str | None:
    """What makes `address` unfit for a webhook, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    for kind, flag in (
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a private", address.is_private),
        ("a multicast", address.is_multicast),
        ("an unspecified", address.is_unspecified),
        ("a reserved", address.is_reserved),
    ):
        if flag:
            return kind
    return None if address.is_global else "a non-public"


def check_address(address: Address) -> None:
    kind = _kind(address)
    if kind is not None and not settings.WEBHOOKS_ALLOW_PRIVATE:
        raise Refused(
            f"{address} is {kind} address: refused (WEBHOOKS_ALLOW_PRIVATE=true allows it)."
        )


def resolve(host: str, port: int, *, resolver: Resolver = socket.getaddrinfo) -> Address:
    """The one address the request goes to: the first the name resolves to that may be called."""
    try:
        return_literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        check_address(return_literal)
        return return_literal
    try:
        found = resolver(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve: {exc}") from None
    refused: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        try:
            check_address(address)
        except Refused as exc:
            refused.append(str(exc))
            continue
        return address
    raise Refused(refused[0] if refused else f"{host} has no address.")


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to a resolved address, verifying the certificate for the URL's host name."""

    def __init__(self, address: str, port: int, *, hostname: str, timeout: float) -> None:
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._hostname = hostname

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._hostname)  # type: ignore[attr-defined]


def _host_header(host: str, port: int, scheme: str) -> str:
    name = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return name if port == default else f"{name}:{port}"


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float | None = None,
    resolver: Resolver = socket.getaddrinfo,
) -> Answer:
    """POST `body` to `url`; never raises for the receiver's doing (it is in the Answer)."""
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS if timeout is None else timeout
    started = time.monotonic()

    def answer(status: int | None, text: str, error: str, address: str = "") -> Answer:
        return Answer(status, text, error[:500], time.monotonic() - started, address)

    try:
        check_url(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = str(resolve(host, port, resolver=resolver))
    except (Refused, ValueError) as exc:
        return answer(None, "", f"refused: {exc}")
    connection: http.client.HTTPConnection = (
        _Pinned(address, port, hostname=host, timeout=timeout)
        if parts.scheme == "https"
        else http.client.HTTPConnection(address, port, timeout=timeout)
    )
    # The whole attempt ends by the deadline: a receiver dripping a byte at a time cannot
    # hold the worker (each read alone would wait only `timeout`).
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout, cut)
    watchdog.daemon = True
    watchdog.start()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                **headers,
                "Host": _host_header(host, port, parts.scheme),
                "Content-Type": "application/json",
                "User-Agent": "Kassa-Webhooks/1",
            },
        )
        response = connection.getresponse()
        read = b""
        while len(read) < READ_LIMIT:
            chunk = response.read(min(8192, READ_LIMIT - len(read)))
            if not chunk:
                break
            read += chunk
        if expired.is_set():  # cut off mid-answer: whatever was read is not an answer
            raise TimeoutError
        text = read.decode("utf-8", errors="replace")[:KEPT]
        status = response.status
        error = ""
        if not 200 <= status < 300:
            error = f"answered {status}"
            if 300 <= status < 400:
                error += (
                    f" (a redirect to {response.getheader('Location', '?')[:200]}: not followed)"
                )
        return answer(status, text, error, address)
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError | socket.timeout):
            return answer(None, "", f"no answer within {timeout:g} s", address)
        return answer(None, "", f"{type(exc).__name__}: {exc}", address)
    finally:
        watchdog.cancel()
        connection.close()
