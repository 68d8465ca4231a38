"""Orders' own settings: how long an orchestrated saga waits for a step, and how often it asks.

They keep the names the whole system documents (``SHOPLAB_SAGA_STEP_TIMEOUT_SECONDS``,
``SHOPLAB_SAGA_STEP_ATTEMPTS``), and only orders' bootstrap reads them. The saga *style*
(``SHOPLAB_SAGA``) is not among them: inventory and payments must follow the style orders
settles by, and contexts share nothing but the chassis and the contracts, so it stays a
chassis setting (``PlatformSettings.saga``).
"""

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

    def timeouts(self) -> Timeouts:
        return Timeouts(
            step=timedelta(seconds=self.saga_step_timeout_seconds),
            attempts=self.saga_step_attempts,
        )
