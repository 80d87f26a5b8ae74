"""What the shop's stored files are called: after their content's hash, so a file never changes
under its address and browsers and proxies may keep it for a year (kassa.storefront.views.media
serves them so)."""

import hashlib
from pathlib import PurePosixPath

HASH_LENGTH = 20


def content_name(prefix: str, content: bytes, suffix: str) -> str:
    """`prefix` + the content's hash + `suffix`: an address that only ever shows these bytes."""
    return f"{prefix}{hashlib.sha256(content).hexdigest()[:HASH_LENGTH]}{suffix}"


def is_content_addressed(path: str) -> bool:
    stem = PurePosixPath(path).name.split("-", 1)[0].split(".", 1)[0]
    return len(stem) == HASH_LENGTH and all(c in "0123456789abcdef" for c in stem)
