"""The deployment's promises, checked against the running containers: compose.yaml with three
`web` replicas, the image built from the Dockerfile, PostgreSQL, Redis, nginx in front, and the
mail worker (tests/system/deployment.py). `make test-deploy` runs these; `make test` does not.
"""

import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.images import picture
from tests.mail import wait_for
from tests.stripe_events import event
from tests.system.deployment import ADMIN, REPLICAS, Deployment, run
from tests.system.shoppers import Seen, buy_now

pytestmark = pytest.mark.deploy

SERVICES = ("web", "worker", "db", "redis", "proxy", "backup", "relay")


def paid(deployment: Deployment, order_ids: list[int]) -> set[int]:
    if not order_ids:
        return set()
    listed = ",".join(map(str, order_ids))
    rows = deployment.sql(f"SELECT id FROM orders_order WHERE status = 'paid' AND id IN ({listed})")
    return {int(row[0]) for row in rows}


def test_only_the_proxy_is_published_and_only_on_127_0_0_1(deployment: Deployment) -> None:
    published = {}
    for service in SERVICES:
        for container in deployment.containers(service):
            ports = deployment.inspect(container)["NetworkSettings"]["Ports"] or {}
            published[container] = sorted(
                (binding["HostIp"], binding["HostPort"])
                for bindings in ports.values()
                if bindings
                for binding in bindings
            )
    [proxy] = deployment.containers("proxy")
    port = deployment.base.rsplit(":", 1)[1]
    assert published.pop(proxy) == [("127.0.0.1", port)]
    assert len(deployment.containers("web")) == REPLICAS
    assert all(bindings == [] for bindings in published.values()), published

    answer = requests.get(f"{deployment.base}/healthz", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.headers["Server"] == "nginx"  # what answered is the proxy
    # The proxy keeps /metrics inside the network.
    assert requests.get(f"{deployment.base}/metrics", timeout=10).status_code == 404


def test_three_replicas_starting_together_migrated_once(deployment: Deployment) -> None:
    twice = deployment.sql(
        "SELECT app, name FROM django_migrations GROUP BY app, name HAVING count(*) > 1"
    )
    assert twice == []
    recorded = int(deployment.value("SELECT count(*) FROM django_migrations"))
    applied = 0
    for web in deployment.containers("web"):
        state = deployment.inspect(web)
        assert state["RestartCount"] == 0, f"{web} restarted"
        applied += len(re.findall(r"^\s+Applying \S+\.\.\. OK", deployment.logs(web), re.M))
    assert applied == recorded  # each migration applied by exactly one replica
    assert deployment.value(f"SELECT count(*) FROM auth_user WHERE username = '{ADMIN}'") == "1"


def test_the_shop_runs_as_an_unprivileged_user(deployment: Deployment) -> None:
    for container in deployment.containers("web") + deployment.containers("worker"):
        status = deployment.exec(container, "cat", "/proc/1/status")
        uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE)
        assert uids is not None, container
        assert set(uids.group(1).split()) == {"10001"}, container
        assert deployment.inspect(container)["Config"]["User"] == "10001:10001"


def test_every_replica_is_healthy(deployment: Deployment) -> None:
    webs = deployment.containers("web")
    assert len(webs) == REPLICAS
    for web in webs:
        assert deployment.inspect(web)["State"]["Health"]["Status"] == "healthy", web
        deployment.exec(web, "python", "docker/healthcheck.py")  # exits 0 when healthy


def test_a_purchase_end_to_end(deployment: Deployment) -> None:
    item = deployment.item("Deployed teapot", 5)
    inbox = deployment.smtp.inbox

    checkout = buy_now(deployment, item, Seen())
    assert checkout is not None
    assert deployment.levels(item) == (5, 1, 1)
    deployment.pay(checkout["id"])

    order = checkout["order_id"]
    wait_for(lambda: paid(deployment, [order]) == {order}, seconds=60)
    assert deployment.levels(item) == (4, 0, 0)
    subject = f"Your order #{order} is paid"
    wait_for(lambda: bool(inbox.with_subject(subject)), seconds=120)
    [mail] = inbox.with_subject(subject)
    assert mail["X-Envelope-To"] == "buyer@example.com"


def _admin(deployment: Deployment) -> requests.Session:
    staff = requests.Session()
    staff.get(f"{deployment.base}/admin/login/", timeout=30)
    answer = staff.post(
        f"{deployment.base}/admin/login/?next=/admin/",
        data={
            "username": ADMIN,
            "password": deployment.admin_password,
            "csrfmiddlewaretoken": staff.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=30,
    )
    assert answer.url.endswith("/admin/"), answer.url
    return staff


def test_an_image_uploaded_through_one_replica_is_served_by_every_replica(
    deployment: Deployment,
) -> None:
    for web in deployment.containers("web"):
        # The shared volume stays the app user's, whoever else mounts it (the backup service).
        assert deployment.exec(web, "stat", "-c", "%u", "/app/media").strip() == "10001", web
    staff = _admin(deployment)
    staff.get(f"{deployment.base}/admin/catalog/item/add/", timeout=30)
    answer = staff.post(
        f"{deployment.base}/admin/catalog/item/add/",
        data={
            "name_en": "Pictured jug",  # the admin edits each language's text
            "description_en": "",
            "price": "12.00",
            "currency": "usd",
            "is_active": "on",
            "requires_shipping": "on",
            "image_alt": "A blue jug",
            "csrfmiddlewaretoken": staff.cookies["csrftoken"],
        },
        files={"image": ("jug.jpg", picture(), "image/jpeg")},
        timeout=60,
    )
    assert answer.status_code == 200
    assert answer.url.endswith("/admin/catalog/item/"), answer.text[:500]  # saved, not refused
    image = deployment.value("SELECT card_image FROM catalog_item WHERE name = 'Pictured jug'")
    assert image

    took = [
        web
        for web in deployment.containers("web")
        if "POST /admin/catalog/item/add/" in deployment.logs(web)
    ]
    assert len(took) == 1  # one replica stored it
    fetch = (
        "import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request("
        f"'http://127.0.0.1:8000/media/{image}', headers={{'Host': '127.0.0.1'}}), timeout=10);"
        "print(r.status, len(r.read()))"
    )
    for web in deployment.containers("web"):
        status, size = deployment.exec(web, "python", "-c", fetch).split()
        assert status == "200", web
        assert int(size) > 1000, web
    through_proxy = requests.get(f"{deployment.base}/media/{image}", timeout=30)
    assert through_proxy.status_code == 200
    assert through_proxy.headers["Content-Type"] == "image/jpeg"


def test_restarting_web_under_load_loses_no_order(deployment: Deployment) -> None:
    item = deployment.item("Restart mug", 1000)
    seen = Seen()
    orders: list[int] = []
    stop = threading.Event()

    def customer() -> None:
        bought = 0
        while not stop.is_set() or bought < 2:
            checkout = buy_now(deployment, item, seen)
            assert checkout is not None
            deployment.pay(checkout["id"])
            orders.append(checkout["order_id"])
            bought += 1

    with ThreadPoolExecutor(max_workers=6) as pool:
        running = [pool.submit(customer) for _ in range(6)]
        wait_for(lambda: len(orders) >= 6, seconds=120)
        before = len(orders)
        deployment.compose("restart", "web", timeout=300)
        deployment.wait_healthy()
        wait_for(lambda: len(orders) >= before + 12, seconds=180)
        stop.set()
        for done in running:
            done.result()

    wait_for(lambda: paid(deployment, orders) == set(orders), seconds=120)
    stock, reserved, held = deployment.levels(item)
    assert (stock, reserved, held) == (1000 - len(orders), held, held)
    assert seen.unclean == []
    assert set(seen.statuses) <= {0, 200, 502, 503, 504}, seen.statuses
    deployment.figures["web_restart_under_load"] = {
        "orders_paid": len(orders),
        "answers": dict(seen.statuses),
    }


def test_a_killed_worker_sends_each_mail_once(deployment: Deployment) -> None:
    inbox = deployment.smtp.inbox
    item = deployment.item("Mail kettle", 5)
    inbox.receiving.clear()
    inbox.hold = threading.Event()
    try:
        checkout = buy_now(deployment, item, Seen())
        assert checkout is not None
        deployment.pay(checkout["id"])
        assert inbox.receiving.wait(120), "the worker never began sending"
        [worker] = deployment.containers("worker")
        run("docker", "kill", "--signal", "KILL", worker)
        time.sleep(1)  # the relay closes the killed worker's connection
    finally:
        inbox.hold.set()
    inbox.hold = None
    deployment.compose("start", "worker")

    order = checkout["order_id"]
    confirmation, staff = f"Your order #{order} is paid", f"New order #{order}"
    wait_for(
        lambda: bool(inbox.with_subject(confirmation)) and bool(inbox.with_subject(staff)),
        seconds=180,
    )
    # Longer than the lease after which a mail a stopped worker was sending is sent again.
    time.sleep(2 * int(deployment.settings["MAIL_SEND_LEASE_SECONDS"]) + 2)
    assert len(inbox.with_subject(confirmation)) == 1
    assert len(inbox.with_subject(staff)) == 1


def test_the_shop_recovers_from_a_database_restart_with_nothing_half_written(
    deployment: Deployment,
) -> None:
    item = deployment.item("Restart teapot", 100)
    seen = Seen()
    stop = threading.Event()
    checkouts: list[dict[str, object]] = []

    def customer() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answer = requests.get(
                    f"{deployment.base}/buy/{item}",
                    headers={"Accept": "application/json"},
                    timeout=60,
                )
            except requests.RequestException:
                seen.record(None, time.monotonic() - started)
                continue
            seen.record(answer, time.monotonic() - started)
            if answer.status_code == 200:
                checkouts.append(answer.json())
            time.sleep(0.1)

    with ThreadPoolExecutor(max_workers=4) as pool:
        running = [pool.submit(customer) for _ in range(4)]
        time.sleep(2)
        started = time.monotonic()
        deployment.compose("restart", "db", timeout=120)
        restarted = time.monotonic()
        back = deployment.wait_healthy(seconds=120)
        # A few more purchases on the database that came back.
        count = len(checkouts)
        wait_for(lambda: len(checkouts) >= count + 4, seconds=120)
        stop.set()
        for done in running:
            done.result()

    deployment.figures["database_restart"] = {
        "restart_command_seconds": round(restarted - started, 1),
        "healthy_again_after_seconds": round(back, 1),
        "answers_meanwhile": dict(seen.statuses),
    }
    assert seen.unclean == [], seen.unclean[:5]
    stock, reserved, held = deployment.levels(item)
    assert (stock, reserved) == (100, held)  # every unit held has its reservation
    # Every reservation belongs to a pending order with its one open payment attempt. Those
    # the customers never heard of (the database went as their checkout was being made or
    # answered) are what the shop settles by itself: an attempt without its Stripe id is taken
    # up by reconcile_payments, one with a Checkout Session expires with it at Stripe.
    rows = deployment.sql(
        "SELECT o.id, o.status, count(a.id), max(a.stripe_id) FROM orders_reservation r"
        " JOIN orders_order o ON o.id = r.order_id"
        " LEFT JOIN payments_paymentattempt a ON a.order_id = o.id AND a.state = 'open'"
        f" WHERE r.item_id = {item} AND r.state = 'held' GROUP BY o.id, o.status"
    )
    assert {(status, attempts) for _, status, attempts, _ in rows} == {("pending", "1")}
    told = {int(str(checkout["order_id"])) for checkout in checkouts}
    untold = {int(order): session for order, _, _, session in rows if int(order) not in told}
    assert told <= {int(order) for order, *_ in rows}
    deployment.figures["database_restart"]["checkouts_cut_short"] = len(untold)
    for session in untold.values():
        if session:
            expired = {**deployment.fake.resources.checkout_sessions[session], "status": "expired"}
            deployment.webhook(event("checkout.session.expired", expired))
    [web, *_] = deployment.containers("web")
    deployment.exec(
        web,
        "python",
        "manage.py",
        "shell",
        "-c",
        "from datetime import timedelta; from kassa.payments.reconcile import reconcile_pending;"
        " reconcile_pending(unmade_after=timedelta(0))",
    )
    assert deployment.levels(item) == (100, len(checkouts), len(checkouts))
    for checkout in checkouts[-2:]:
        deployment.pay(str(checkout["id"]))
    ids = [int(str(checkout["order_id"])) for checkout in checkouts[-2:]]
    wait_for(lambda: paid(deployment, ids) == set(ids), seconds=60)


def test_the_backup_service_dumps_a_shop_that_restores_whole(deployment: Deployment) -> None:
    [backup] = deployment.containers("backup")
    deployment.exec(backup, "bash", "/kassa/backup.sh", "/backups")
    dumps = sorted((deployment.folder / "backups").glob("kassa-*.dump"))
    assert len(dumps) >= 2  # the one made at start, and this one
    images = sorted((deployment.folder / "backups").glob("media-*.tar.gz"))
    assert images
    assert (deployment.folder / "backups" / f"env-{dumps[-1].name[6:-5]}").exists()

    [db] = deployment.containers("db")
    deployment.exec(db, "createdb", "-U", "kassa", "restored")
    restore = subprocess.run(
        [
            "docker",
            "exec",
            "-i",
            db,
            "pg_restore",
            "-U",
            "kassa",
            "-d",
            "restored",
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
        ],
        stdin=dumps[-1].open("rb"),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert restore.returncode == 0, restore.stderr
    compare = "SELECT t::text FROM {} t ORDER BY 1"
    for table in ("orders_order", "payments_paymentattempt", "catalog_item"):
        shop = deployment.exec(
            db, "psql", "-U", "kassa", "-d", "kassa", "-X", "-A", "-t", "-c", compare.format(table)
        )
        copy = deployment.exec(
            db,
            "psql",
            "-U",
            "kassa",
            "-d",
            "restored",
            "-X",
            "-A",
            "-t",
            "-c",
            compare.format(table),
        )
        assert shop.strip(), table
        assert copy == shop, table
    deployment.exec(db, "dropdb", "-U", "kassa", "restored")
