"""Reading pages as a browser does."""

import re


def csrf_token_in(html: str) -> str:
    """The CSRF token the page's forms post (every form of a page carries the same one)."""
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert len(tokens) == 1, f"expected one CSRF token in the page, found {tokens}"
    token = tokens.pop()
    # Django's masked tokens: letters and digits (a shared page's unreplaced marker is not).
    assert re.fullmatch(r"[A-Za-z0-9]{32,64}", token), f"not a CSRF token: {token!r}"
    return token
