"""Who may read /metrics: a client at one of METRICS_ALLOWED_IPS, or one that sends
`Authorization: Bearer <METRICS_TOKEN>`. With neither set, nobody."""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(values: list[str]) -> list[Network]:
    """METRICS_ALLOWED_IPS as networks: addresses ("10.0.0.5") or ranges ("10.0.0.0/8").
    Raises ValueError for anything else."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def may_read_metrics(request: HttpRequest) -> bool:
    return _has_token(request) or _from_allowed_address(request)


def _has_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _from_allowed_address(request: HttpRequest) -> bool:
    """The address of the connection itself (REMOTE_ADDR), never X-Forwarded-For: a header is
    the client's to write."""
    allowed = networks(settings.METRICS_ALLOWED_IPS)
    if not allowed:
        return False
    try:
        address = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # an IPv4 client of a server listening on [::]
    return any(address in network for network in allowed)
