"""Locust load on a running shoplab: the bench's seeded workload, one fresh customer per user.

    shoplab load                                     # web UI on http://127.0.0.1:8089
    shoplab load --headless --users 20 --spawn-rate 5 --run-time 1m
    python -m locust -f bench/locustfile.py --host http://127.0.0.1:8080

Each simulated user registers a customer of its own, signs in, then places the orders of the
workload plan (``shoplab.bench.workload``, the one ``shoplab bench`` drives) one after the
other, each with an ``Idempotency-Key``, and now and then reads one of its orders back. Every
user of a Locust process takes the next order of one shared plan, so the mix of cards and
skus is the bench's; the plan's customer numbers are not used (each user is its customer).
Nothing needs the administrator: the stock is the one a fresh start seeds.

The default rate limits are made for people: sign-ups and sign-ins allow 50 a second per
address (only the refused ones are counted more strictly), placement 10 a second and 300 an
hour per customer. For heavier or longer load, start the system with room to spare::

    SHOPLAB_RATE_LIMIT_LOGIN=1000/second SHOPLAB_RATE_LIMIT_PLACEMENT=1000/second \\
    SHOPLAB_RATE_LIMIT_READS=1000/second shoplab up

Otherwise the answers 429 appear among the failures, named for what they are.
"""

import itertools
import random
import uuid
from collections.abc import Iterator
from typing import Any

from locust import HttpUser, between, events, task
from locust.argument_parser import LocustArgumentParser

from shoplab.bench.workload import SEED, PlannedOrder, plan

PLAN_ORDERS = 10_000
"""Orders in the plan before it starts over."""
KEPT_ORDERS = 20
"""The recent orders a user may read back."""
PASSWORD = "load-test-password"
RATE_LIMITED = (
    "429 rate limited: start shoplab with higher SHOPLAB_RATE_LIMIT_* quotas "
    "(see bench/locustfile.py)"
)


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=SEED, help="Seed of the workload plan (the bench's by default)"
    )


events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]


class SharedPlan:
    """The plan's orders in turn, for every user of this process; built once the skus are known.

    Locust's users are greenlets that switch only on I/O, so ``next`` needs no lock.
    """

    def __init__(self) -> None:
        self._orders: Iterator[PlannedOrder] | None = None

    def next_order(self, skus: list[str], seed: int) -> PlannedOrder:
        if self._orders is None:
            workload = plan(skus, orders=PLAN_ORDERS, customers=1, seed=seed)
            self._orders = itertools.cycle(workload.orders)
        return next(self._orders)


PLAN = SharedPlan()


class Shopper(HttpUser):
    """A customer who keeps ordering, with a moment's thought between two requests."""

    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.credentials = {"email": f"load-{uuid.uuid4().hex}@example.com", "password": PASSWORD}
        self.registered = False
        self.signed_in = False
        self.skus: list[str] = []
        self.orders: list[str] = []
        self._sign_up()

    @task(4)
    def place_order(self) -> None:
        if not self._sign_up():
            return
        options = self.environment.parsed_options
        order = PLAN.next_order(self.skus, options.seed if options is not None else SEED)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        placed = self._call("POST", "/api/orders", 202, json=order.body(), headers=headers)
        if placed is not None:
            self.orders = [*self.orders, placed["order_id"]][-KEPT_ORDERS:]

    @task(1)
    def read_order(self) -> None:
        if self.orders:
            order_id = random.choice(self.orders)
            self._call("GET", f"/api/orders/{order_id}", 200, name="/api/orders/[id]")

    def _sign_up(self) -> bool:
        """Register, sign in and learn the skus; what failed is tried again by the next task."""
        if not self.registered:
            customer = {**self.credentials, "name": "Load Test"}
            self.registered = (
                self._call("POST", "/api/auth/register", 201, json=customer) is not None
            )
        if self.registered and not self.signed_in:
            token = self._call("POST", "/api/auth/token", 200, json=self.credentials)
            if token is not None:
                self.client.headers["Authorization"] = f"Bearer {token['access_token']}"
                self.signed_in = True
        if self.signed_in and not self.skus:
            catalog = self._call("GET", "/api/products", 200)
            self.skus = [item["sku"] for item in catalog["items"]] if catalog else []
        return bool(self.skus)

    def _call(self, method: str, path: str, expected: int, **options: Any) -> Any:
        """The answer's JSON when its status is ``expected``; else a failure in the stats."""
        options.setdefault("name", path)
        with self.client.request(method, path, catch_response=True, **options) as response:
            if response.status_code == expected:
                response.success()
                return response.json()
            if response.status_code == 0:  # no answer at all: refused, reset, timed out
                response.failure(f"no answer ({type(response.error).__name__})")
            elif response.status_code == 429:
                response.failure(RATE_LIMITED)
            else:
                response.failure(f"{response.status_code}, expected {expected}")
            return None
