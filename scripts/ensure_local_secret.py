"""Give a local checkout a secret key of its own on first run, kept in .env (never committed)."""

import os
import secrets
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def main() -> None:
    if os.environ.get("DJANGO_SECRET_KEY"):
        return
    text = ENV_FILE.read_text() if ENV_FILE.exists() else ""
    if any(line.strip().startswith("DJANGO_SECRET_KEY=") for line in text.splitlines()):
        return
    prefix = "" if not text or text.endswith("\n") else "\n"
    with ENV_FILE.open("a") as env_file:
        env_file.write(f"{prefix}DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n")
    ENV_FILE.chmod(0o600)
    print(f"Generated a local DJANGO_SECRET_KEY in {ENV_FILE.name}.")


if __name__ == "__main__":
    main()
