"""Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists, as the API reads it."""

from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl


def parse_form(body: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The flat params (exactly as sent) and the same params nested as Stripe reads them."""
    pairs = parse_qsl(body, keep_blank_values=True)
    flat = dict(pairs)
    nested: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = nested
        for part, following in pairwise(parts):
            child_is_list = following.isdigit()
            if isinstance(node, list):
                index = int(part)
                while len(node) <= index:
                    node.append([] if child_is_list else {})
                node = node[index]
            else:
                node = node.setdefault(part, [] if child_is_list else {})
        last = parts[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return flat, nested
