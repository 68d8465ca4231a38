"""What a caller asks the orders context to do."""

import hashlib
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class PlaceOrder:
    customer_id: str
    quantities: dict[str, int]
    payment_method: str
    idempotency_key: str | None = None

    def fingerprint(self) -> str:
        """Identifies the request body, to tell a replay from a reuse of the same key."""
        canonical = json.dumps(
            {"items": sorted(self.quantities.items()), "payment_method": self.payment_method}
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
