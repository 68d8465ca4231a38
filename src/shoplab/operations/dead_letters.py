"""Dead letters: the messages a consumer gave up on, and how to send them again.

The services keep each dead letter with its original envelope and headers that
say where it came from and why it failed (``platform.messaging.dead_letters``);
the broker's adapter, chosen by the URL, reads them. Replaying publishes the
envelope again to its original subject, then deletes the dead letter.

Replay is at least once, like every delivery: a crash between the publish and
the delete leaves the dead letter in place, and replaying it again is harmless
because every consumer is idempotent. For the same reason, one replay serves
every consumer that dead-lettered the same message: those that handled it
already skip the copy.
"""

from dataclasses import dataclass

from shoplab.platform.messaging.brokers import open_dead_letters
from shoplab.platform.messaging.dead_letters import DeadLetter, DeadLetterNotFound
from shoplab.platform.messaging.streams import Topology


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    stream: str
    """Where the republished message went: the stream (JetStream) or the exchange (RabbitMQ)."""
    sequence: int
    removed: int
    """Dead letters deleted: one per consumer that gave up on the message."""


async def list_dead_letters(broker_url: str, topology: Topology | None = None) -> list[DeadLetter]:
    """Every dead letter, oldest first; none when the broker keeps none yet."""
    async with open_dead_letters(broker_url, topology or Topology()) as letters:
        return await letters.read()


async def replay_dead_letter(
    broker_url: str, message_id: str, topology: Topology | None = None
) -> Replayed:
    """Publish the message again to its original subject, then delete its dead letters."""
    async with open_dead_letters(broker_url, topology or Topology()) as letters:
        matching = [letter for letter in await letters.read() if letter.message_id == message_id]
        if not matching:
            raise DeadLetterNotFound(message_id)
        first = matching[0]
        if not first.original_subject:
            raise ValueError(f"dead letter {first.sequence} does not say its original subject")
        stored = await letters.republish(first)
        await letters.remove(matching)
        return Replayed(first, stored.stream, stored.sequence, len(matching))
