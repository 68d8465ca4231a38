"""Orders' own settings: how long an orchestrated saga waits for a step, and how often it asks.

They keep the names the whole system documents (``SHOPLAB_SAGA_STEP_TIMEOUT_SECONDS``,
``SHOPLAB_SAGA_STEP_ATTEMPTS``, ``SHOPLAB_SAGA_RESENDS_PER_SECOND``,
``SHOPLAB_ORDERS_MAX_IN_FLIGHT``), and only orders' bootstrap reads them.

The bound on placements in flight (100) is sized from the step's deadline: past the knee
the sagas in flight queue, and each waits about ``in flight ÷ settled per second``. At the
slowest rate measured at the knee (about 22 sagas a second) 100 wait about 4.5 s, inside
the 5 s step timeout, so no step is sent again for being queued; at the rate the targets
ask (300 a second) they wait a third of a second. It sits above the knee's 64 in flight,
so it refuses nothing a system below its knee would settle. In the monolith the same
bound counts placements in progress, mostly waiting for the writer: 100 wait well under
a second.

The resend budget (20 a second) is small next to what a system settles: resends exist
for lost messages, which an at-least-once broker makes rare, not to hurry a queue. The saga *style*
(``SHOPLAB_SAGA``) is not among them: inventory and payments must follow the style orders
settles by, and contexts share nothing but the chassis and the contracts, so it stays a
chassis setting (``PlatformSettings.saga``).
"""

import random
from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shoplab.orders.domain.orchestration import Timeouts


class OrdersSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPLAB_", extra="ignore")

    saga_step_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    """How long a saga step waits for its reply before the command is sent again."""
    saga_step_attempts: int = Field(default=6, ge=1, le=100)
    """Sends of one saga step's command before the saga gives up and compensates."""

    saga_resends_per_second: float = Field(default=20.0, gt=0, le=10_000)
    """Late steps the saga's timer handles in a second, all sagas together (a budget)."""
    orders_max_in_flight: int = Field(default=100, ge=0, le=1_000_000)
    """Placements admitted and not yet settled before a new one is refused (0: no bound)."""

    def timeouts(self) -> Timeouts:
        return Timeouts(
            step=timedelta(seconds=self.saga_step_timeout_seconds),
            attempts=self.saga_step_attempts,
            jitter=lambda: random.uniform(0.75, 1.25),
        )
