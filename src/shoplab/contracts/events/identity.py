"""Events published by the identity context."""

from typing import ClassVar

from shoplab.contracts.envelope import Message


class CustomerRegistered(Message):
    """A customer account exists; carries what others may keep a copy of."""

    context: ClassVar[str] = "identity"

    customer_id: str
    email: str
    name: str
