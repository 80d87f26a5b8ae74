"""Give a local checkout a secret key of its own on first run, kept in .env (never committed).

A `DJANGO_SECRET_KEY=` line left empty (as in a copied .env.example) counts as no key: it is
filled in, so `cp .env.example .env && make run` works as documented."""

import os
import re
import secrets
import sys
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"
_EMPTY_KEY = re.compile(r"^[ \t]*DJANGO_SECRET_KEY[ \t]*=[ \t]*(['\"]?)\1[ \t]*$", re.MULTILINE)


def main(env_file: Path = ENV_FILE) -> None:
    if os.environ.get("DJANGO_SECRET_KEY"):
        return
    text = env_file.read_text() if env_file.exists() else ""
    line = f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}"
    if _EMPTY_KEY.search(text):
        text = _EMPTY_KEY.sub(line, text, count=1)
    elif any(row.strip().startswith("DJANGO_SECRET_KEY=") for row in text.splitlines()):
        return
    else:
        text += ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    env_file.write_text(text)
    env_file.chmod(0o600)
    print(f"Generated a local DJANGO_SECRET_KEY in {env_file.name}.")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ENV_FILE)
