"""How the Stripe library reaches Stripe: urllib3's connection pool, given to each StripeClient
as its `http_client` (stripe-python takes any `stripe.HTTPClient` subclass there).

stripe-python's own client, `RequestsClient`, sends through a requests Session, which reads the
process environment for proxy settings on every call; this one reads them once, when it is made,
and spends about a quarter less CPU per call (`python -m bench.stripe_client` measures both). A
Buy click makes one call, and at 64 clicks at once the CPU is the limit (`make bench`). urllib3
is what requests sends through anyway.

What stays the same as with requests: certificates checked against stripe-python's CA bundle,
the timeout applied to connecting and to each read, connections kept open and reused across
calls, and stripe-python deciding which failures to retry (urllib3's own retries are off).
What it adds: each request of a client made for an account goes through kassa.stripe_api.sending
(the bulkhead, the account's pace, 429 retries, the request's deadline).
"""

import logging
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import stripe
import urllib3

from kassa.stripe_api import sending

logger = logging.getLogger(__name__)

# Each gunicorn thread holds at most one connection at a time; connections are opened only as
# threads need them, so a generous bound costs nothing.
_POOL_SIZE = 64


def _proxy_for(api_base: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY) names for Stripe's address,
    read as requests reads it: a proxy given without a scheme is an http:// one."""
    parts = urlsplit(api_base)
    if parts.hostname and proxy_bypass(parts.hostname):
        return None
    proxies = getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy


class Urllib3Client(stripe.HTTPClient):
    name = "urllib3"

    def __init__(
        self, *, timeout: float, api_base: str, account: sending.Account | None = None
    ) -> None:
        super().__init__()
        self._timeout = timeout
        self._account = account
        options: dict[str, Any] = {
            "num_pools": 4,
            "maxsize": _POOL_SIZE,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "retries": False,
            "ca_certs": stripe.ca_bundle_path,
            "cert_reqs": "CERT_REQUIRED",
        }
        proxy = _proxy_for(api_base)
        self._pool: urllib3.PoolManager | None = None
        try:
            self._pool = (
                urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
            )
        except urllib3.exceptions.ProxySchemeUnknown:
            # e.g. socks5://, which needs a package the shop does not install. Every call then
            # fails as unreachable (the customer gets the 503, the log says why) rather than
            # with a traceback. The proxy's address is not logged: it may carry a password.
            logger.error("the proxy the environment names for Stripe has a scheme not supported")

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
        if self._pool is None:
            raise stripe.APIConnectionError(
                "The proxy named for Stripe cannot be used.", should_retry=False
            )
        pool = self._pool

        def request(timeout: urllib3.Timeout) -> urllib3.BaseHTTPResponse:
            return self._request(pool, method, url, headers, post_data, timeout, preload_content)

        if self._account is None:
            return request(urllib3.Timeout(connect=self._timeout, read=self._timeout))
        return sending.send(self._account, self._timeout, request)

    @staticmethod
    def _request(
        pool: urllib3.PoolManager,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any,
        timeout: urllib3.Timeout,
        preload_content: bool,
    ) -> urllib3.BaseHTTPResponse:
        try:
            return pool.request(
                method.upper(),
                url,
                body=post_data,
                headers=dict(headers or {}),
                preload_content=preload_content,
                redirect=False,
                timeout=timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            _connection_error(exc)
        except Exception as exc:
            # Not the network: e.g. a line break in a header (a secret key pasted with its
            # newline). Like stripe-python's own clients, a connection error not worth retrying,
            # so the caller's "Stripe failed" handling runs and nothing is left half-done.
            raise stripe.APIConnectionError(
                f"Could not send the request to Stripe ({type(exc).__name__})",
                should_retry=False,
            ) from exc

    def close(self) -> None:
        if self._pool is not None:
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
