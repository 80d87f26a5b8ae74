"""How the Stripe library reaches Stripe: urllib3's connection pool, plugged in where
stripe-python takes any `stripe.HTTPClient` subclass (its documented extension point).

stripe-python's default, `RequestsClient`, goes through a requests Session, which scans the
process environment for proxy settings twice on every call. Measured in-process, a Checkout
Session create cost about 1.1 ms of CPU through requests and 0.65 ms through this client; a Buy
click makes one call, and at 64 clicks at once the CPU is the limit (`make bench`). urllib3 is
what requests sends through anyway; this reads the proxy settings once, when it is made.

What stays the same as with requests: certificates checked against stripe-python's CA bundle,
the timeout applied to connecting and to each read, connections kept open and reused across
calls, and stripe-python deciding which failures to retry (urllib3's own retries are off).
"""

from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import stripe
import urllib3

# Each gunicorn thread holds at most one connection at a time; connections are opened only as
# threads need them, so a generous bound costs nothing.
_POOL_SIZE = 64


def _proxy_for(api_base: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, NO_PROXY, ...) names for Stripe's address."""
    parts = urlsplit(api_base)
    if parts.hostname and proxy_bypass(parts.hostname):
        return None
    return getproxies().get(parts.scheme)


class Urllib3Client(stripe.HTTPClient):
    name = "urllib3"

    def __init__(self, *, timeout: float, api_base: str) -> None:
        super().__init__()
        options: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": _POOL_SIZE,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "retries": False,
            "ca_certs": stripe.ca_bundle_path,
            "cert_reqs": "CERT_REQUIRED",
        }
        proxy = _proxy_for(api_base)
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
        )

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        """The body as bytes, as stripe-python's requests client gives it."""
        response = self._send(method, url, headers, post_data, preload_content=True)
        return response.data, response.status, response.headers

    def request_stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        response = self._send(method, url, headers, post_data, preload_content=False)
        return response, response.status, response.headers

    def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any,
        *,
        preload_content: bool,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._pool.request(
                method.upper(),
                url,
                body=post_data,
                headers=dict(headers or {}),
                preload_content=preload_content,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            _connection_error(exc)

    def close(self) -> None:
        self._pool.clear()


def _connection_error(exc: urllib3.exceptions.HTTPError) -> NoReturn:
    """Retry what may succeed on a second try (timeouts, refused or dropped connections), not a
    certificate that fails to verify, as stripe-python's own clients decide."""
    retry = isinstance(
        exc,
        (
            urllib3.exceptions.TimeoutError,  # NewConnectionError (refused) is one
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.ProxyError,
        ),
    )
    raise stripe.APIConnectionError(
        f"Could not reach Stripe ({type(exc).__name__}: {exc})", should_retry=retry
    ) from exc
