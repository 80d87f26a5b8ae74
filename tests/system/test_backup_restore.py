"""The restore drill: a shop with a month of orders, payments, refunds and images on PostgreSQL,
backed up by scripts/backup.sh and restored by scripts/restore.sh into an empty database and an
empty media folder: every row and every image comes back, and the restored shop takes new
orders."""

import os
import re
import stat
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.postgres import server_url, throwaway_database
from tests.production_env import ROOT, VENV_BIN, command_env

pytestmark = [pytest.mark.postgres, pytest.mark.db_independent]


def _run(command: list[str], env: dict[str, str], *, check: bool = True) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def _manage(env: dict[str, str], *args: str) -> str:
    return _run([str(VENV_BIN / "python"), "manage.py", *args], env)


def _every_row(url: str) -> dict[str, list[str]]:
    """Each table of the shop, its rows as text, in order."""
    with psycopg.connect(url) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {
            table: [row for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t ORDER BY 1')]
            for table in tables
        }


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_backup_restores_into_an_empty_database_with_the_same_orders_payments_and_stock(
    tmp_path: Path,
) -> None:
    own = urlsplit(server_url()).path.strip("/") or "kassa"
    secrets_file = tmp_path / "shop.env"
    secrets_file.write_text("DJANGO_SECRET_KEY=backed-up-with-the-shop\nSTRIPE_API_KEY=sk_test_x\n")
    backups = tmp_path / "backups"
    with (
        throwaway_database(f"{own}_backup_{os.getpid()}") as shop_url,
        throwaway_database(f"{own}_restored_{os.getpid()}") as empty_url,
    ):
        shop = command_env(DATABASE_URL=shop_url, MEDIA_ROOT=str(tmp_path / "media"))
        _manage(shop, "migrate", "--noinput", "-v", "0")
        _manage(shop, "seed_demo")
        _manage(shop, "seed_demo_sales")
        before = _every_row(shop_url)
        assert len(before["orders_order"]) > 100
        assert before["payments_paymentattempt"]
        images = _files(tmp_path / "media")
        assert images

        said = _run(
            ["bash", "scripts/backup.sh", str(backups)],
            {**shop, "KASSA_ENV_FILE": str(secrets_file)},
        )
        [dump] = backups.glob("kassa-*.dump")
        stamp = dump.name.removeprefix("kassa-").removesuffix(".dump")
        assert f"Backed up to {backups}" in said
        assert {stat.S_IMODE(path.stat().st_mode) for path in backups.iterdir()} == {0o600}

        restored_secrets = tmp_path / "restored.env"
        restored = command_env(
            DATABASE_URL=empty_url,
            MEDIA_ROOT=str(tmp_path / "restored-media"),
            KASSA_ENV_FILE=str(restored_secrets),
        )
        _run(["bash", "scripts/restore.sh", str(backups), stamp], restored)

        assert _every_row(empty_url) == before
        assert _files(tmp_path / "restored-media") == images
        assert restored_secrets.read_text() == secrets_file.read_text()
        assert stat.S_IMODE(restored_secrets.stat().st_mode) == 0o600

        # The restored shop is whole: nothing left to migrate, and new rows get new ids.
        _manage(restored, "migrate", "--check")
        created = _manage(
            restored,
            "shell",
            "-c",
            "from kassa.catalog.models import Item; "
            "print('new item', Item.objects.create(name='After', price=5, currency='usd').pk)",
        )
        [new_id] = re.findall(r"^new item (\d+)$", created, re.MULTILINE)
        with psycopg.connect(shop_url) as conn:
            [(highest,)] = conn.execute("SELECT max(id) FROM catalog_item")
        assert int(new_id) > highest

        # A second restore into the now full database is refused and changes nothing.
        again = subprocess.run(
            ["bash", "scripts/restore.sh", str(backups), stamp],
            cwd=ROOT,
            env=restored,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 1
        assert "restore into an empty one" in again.stderr
