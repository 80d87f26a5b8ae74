"""Replicas starting together: three `migrate_locked` at once on one empty PostgreSQL database
all succeed, each migration is applied once, and one admin is made."""

import os
import subprocess
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.postgres import server_url, throwaway_database
from tests.production_env import ROOT, VENV_BIN, command_env

pytestmark = [pytest.mark.postgres, pytest.mark.db_independent]


def test_three_replicas_migrating_at_once_take_turns() -> None:
    own = urlsplit(server_url()).path.strip("/") or "kassa"
    with throwaway_database(f"{own}_migrate_{os.getpid()}") as url:
        env = command_env(
            DATABASE_URL=url,
            DJANGO_SUPERUSER_USERNAME="admin",
            DJANGO_SUPERUSER_EMAIL="admin@kassa.example",
            DJANGO_SUPERUSER_PASSWORD="a-long-and-unguessable-Passw0rd",
        )
        replicas = [
            subprocess.Popen(
                [str(VENV_BIN / "python"), "manage.py", "migrate_locked"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [replica.communicate(timeout=600)[0] for replica in replicas]

        assert [replica.returncode for replica in replicas] == [0, 0, 0], outputs
        assert sum("No migrations to apply." in output for output in outputs) == 2
        with psycopg.connect(url) as conn:
            twice = conn.execute(
                "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
            ).fetchall()
            [(admins,)] = conn.execute("SELECT count(*) FROM auth_user").fetchall()
        assert twice == []
        assert admins == 1
