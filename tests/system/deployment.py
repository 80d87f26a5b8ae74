"""The composed deployment under test: compose.yaml and docker/nginx.conf as they are, the image
`make test-deploy` built from the Dockerfile, three `web` replicas, and the test's own fake
Stripe and SMTP server on 127.0.0.1, which the containers reach through a relay (relay.py).

compose.test.yaml adds only what a test needs: the relay, and a network that reaches nothing
outside the deployment (the proxy alone is also on a second network, for its published port).
The project runs from a folder of its own holding copies of the files, so a developer's .env
is never read or written.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer
from tests.production_env import ROOT
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature
from tests.system.relay import HostSide

PROJECT = "kassadeploy"
REPLICAS = 3
HERE = Path(__file__).resolve().parent
SECRET_KEY = "sk_test_deployment_account"
PUBLISHABLE_KEY = "pk_test_deployment_account"
ADMIN = "admin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(*command: str, timeout: float = 300, check: bool = True) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


@dataclass
class Deployment:
    folder: Path
    base: str
    fake: FakeStripe
    smtp: SMTPServer
    admin_password: str
    settings: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)

    # --- the containers -------------------------------------------------------------------
    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        return run(
            "docker-compose",
            "--project-name",
            PROJECT,
            "--file",
            str(self.folder / "compose.yaml"),
            "--file",
            str(self.folder / "compose.test.yaml"),
            *args,
            timeout=timeout,
            check=check,
        )

    def containers(self, service: str, *, all_states: bool = False) -> list[str]:
        """The service's container names, by replica number."""
        listed = run(
            "docker",
            "ps",
            *(["--all"] if all_states else []),
            "--filter",
            f"label=com.docker.compose.project={PROJECT}",
            "--filter",
            f"label=com.docker.compose.service={service}",
            "--format",
            '{{.Label "com.docker.compose.container-number"}} {{.Names}}',
        ).split("\n")
        numbered = sorted((int(n), name) for n, name in (line.split() for line in listed if line))
        return [name for _, name in numbered]

    def inspect(self, container: str) -> dict[str, Any]:
        result: list[dict[str, Any]] = json.loads(run("docker", "inspect", container))
        return result[0]

    def logs(self, container: str) -> str:
        """What the container wrote, its output and its errors."""
        done = subprocess.run(
            ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=True
        )
        return done.stdout + done.stderr

    def exec(self, container: str, *command: str, user: str | None = None) -> str:
        as_user = ["--user", user] if user else []
        return run("docker", "exec", *as_user, container, *command, timeout=120)

    def sql(self, query: str) -> list[list[str]]:
        """Rows of `query` in the shop's database (psql in the db container), as text."""
        [db] = self.containers("db")
        out = self.exec(db, "psql", "-U", "kassa", "-d", "kassa", "-XqAt", "-F", "\t", "-c", query)
        return [line.split("\t") for line in out.splitlines() if line]

    def value(self, query: str) -> str:
        [[answer]] = self.sql(query)
        return answer

    def wait_healthy(self, *, seconds: float = 300) -> float:
        """Seconds until /healthz answers 200 through the proxy."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                if requests.get(f"{self.base}/healthz", timeout=3).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"/healthz through the proxy not healthy after {seconds}s")

    # --- the shop ---------------------------------------------------------------------------
    def item(self, name: str, stock: int, price: str = "9.90") -> int:
        return int(
            self.value(
                # Sent by no one (digital): these tests are about stock, not shipping rates.
                # The name in the main language's column too, which the shop reads.
                "INSERT INTO catalog_item (name, name_en, description, price, currency, stock,"
                " reserved, is_active, requires_shipping, created_at, updated_at)"
                f" VALUES ('{name}', '{name}', '', {price}, 'usd', {stock}, 0, true, false,"
                " now(), now())"
                " RETURNING id"
            )
        )

    def levels(self, item_id: int) -> tuple[int, int, int]:
        """(stock, reserved, units held by reservations) of the item."""
        stock, reserved = self.sql(
            f"SELECT stock, reserved FROM catalog_item WHERE id = {item_id}"
        )[0]
        held = self.value(
            "SELECT coalesce(sum(quantity), 0) FROM orders_reservation"
            f" WHERE item_id = {item_id} AND state = 'held'"
        )
        return int(stock), int(reserved), int(held)

    def webhook(self, evt: dict[str, Any], *, seconds: float = 600) -> None:
        """Deliver `evt` signed through the proxy, again and again as Stripe does until 2xx."""
        payload = encode(evt)
        deadline = time.monotonic() + seconds
        while True:
            try:
                answer = requests.post(
                    f"{self.base}/stripe/webhook/",
                    data=payload,
                    headers={
                        "Stripe-Signature": signature(payload, secret=WEBHOOK_SECRET),
                        "Content-Type": "application/json",
                    },
                    timeout=30,
                )
                if answer.ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"webhook {evt['type']} never accepted")
            time.sleep(0.5)

    def pay(self, session_id: str) -> None:
        """The customer pays on (fake) Checkout, and Stripe tells the shop."""
        session = self.fake.resources.complete_checkout_session(session_id)
        self.webhook(event("checkout.session.completed", session))


def _env_file(port: int, admin_password: str) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "DJANGO_BEHIND_HTTPS_PROXY": "false",
        "DJANGO_SUPERUSER_USERNAME": ADMIN,
        "DJANGO_SUPERUSER_EMAIL": "admin@kassa.example",
        "DJANGO_SUPERUSER_PASSWORD": admin_password,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "KASSA_PUBLISH": f"127.0.0.1:{port}",
        "STRIPE_API_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The relay's names in the deployment's network (compose.test.yaml).
        "STRIPE_API_BASE": "http://stripe:12111",
        "EMAIL_URL": "smtp://smtp:2525",
        "DEFAULT_FROM_EMAIL": "Kassa <shop@kassa.example>",
        "SHOP_STAFF_EMAILS": "staff@kassa.example",
        # Two processes of eight threads a replica: 48 database connections at most for three.
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "8",
        # The abuse limits stay on (they count in Redis), loose enough for one test client
        # that is many buyers.
        "SHOP_THROTTLE_BUY_PER_VISITOR": "1000/m",
        "SHOP_THROTTLE_BUY_PER_ADDRESS": "100000/m",
        "SHOP_HOLD_LIMIT_VISITOR": "100000",
        "SHOP_HOLD_LIMIT_ADDRESS": "100000",
        "SHOP_BUY_AGAIN_SECONDS": "0",
        # A killed worker's mail is sent again after this long, not five minutes.
        "MAIL_SEND_LEASE_SECONDS": "5",
        "MAIL_RETRY_BASE_SECONDS": "1",
    }


@contextmanager
def deployed(work: Path) -> Iterator[Deployment]:
    """Bring the deployment up from copies of its files in `work`, and everything down after."""
    shutil.copy(ROOT / "compose.yaml", work / "compose.yaml")
    (work / "docker").mkdir()
    shutil.copy(ROOT / "docker" / "nginx.conf", work / "docker" / "nginx.conf")
    (work / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "backup.sh", work / "scripts" / "backup.sh")
    shutil.copy(HERE / "compose.test.yaml", work / "compose.test.yaml")
    relay_folder = work / "relay"
    relay_folder.mkdir(mode=0o755)
    shutil.copy(HERE / "relay.py", relay_folder / "relay.py")

    fake = FakeStripe().start()
    smtp = SMTPServer().start()
    host_side = HostSide(relay_folder)
    host_side.add("stripe", int(fake.url.rsplit(":", 1)[1]))
    host_side.add("smtp", smtp.port)

    port = free_port()
    admin_password = secrets.token_urlsafe(18)
    settings = _env_file(port, admin_password)
    (work / ".env").write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    (work / ".env").chmod(0o600)

    deployment = Deployment(
        folder=work,
        base=f"http://127.0.0.1:{port}",
        fake=fake,
        smtp=smtp,
        admin_password=admin_password,
        settings=settings,
    )
    try:
        started = time.monotonic()
        deployment.compose("up", "--detach", "--no-build", "--scale", f"web={REPLICAS}")
        deployment.wait_healthy()
        deployment.figures["up_seconds"] = round(time.monotonic() - started, 1)
        yield deployment
    except BaseException:
        print(deployment.compose("logs", "--no-color", "--tail", "60", check=False)[-20000:])
        raise
    finally:
        # What every container said, for a failure to be read after the containers are gone.
        log = Path(os.environ.get("KASSA_DEPLOY_LOG", work / "compose.log"))
        log.write_text(deployment.compose("logs", "--no-color", check=False))
        deployment.compose(
            "down", "--volumes", "--remove-orphans", "--timeout", "10", timeout=300, check=False
        )
        host_side.stop()
        smtp.stop()
        fake.stop()
