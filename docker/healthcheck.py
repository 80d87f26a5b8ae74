"""The container's HEALTHCHECK: GET /healthz from inside the container; exit 0 when healthy.

Python, not curl (the slim image has no curl). It asks with a Host header the shop accepts (the
first of ALLOWED_HOSTS), so the probe passes Django's host check like a real request.
"""

import json
import os
import sys
import urllib.request


def probe_url() -> str:
    bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
    port = bind.rsplit(":", 1)[-1]
    return f"http://127.0.0.1:{port}/healthz"


def probe_host() -> str:
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")  # ".example.com" allows example.com too
        if host and "*" not in host:
            return host
    return "localhost"


def main() -> int:
    # S310: the URL is always http://127.0.0.1:<port>/healthz, never from outside.
    request = urllib.request.Request(probe_url(), headers={"Host": probe_host()})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
            body = json.load(response)
    except (OSError, ValueError) as exc:  # refused, timed out, 4xx/5xx, not JSON
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if body.get("status") != "ok":
        print(f"unhealthy: {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
