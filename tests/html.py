"""Reading pages as a browser does."""

import re


def csrf_token_in(html: str) -> str:
    """The CSRF token the page's forms post (every form of a page carries the same one)."""
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    assert len(tokens) == 1, f"expected one CSRF token in the page, found {tokens}"
    return tokens.pop()
