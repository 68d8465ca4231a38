"""``shoplab dlq``: list the dead letters, and replay one to its original subject."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shoplab.cli.broker import broker_url, on_broker, topology
from shoplab.cli.options import AsJson, Broker, DataDir
from shoplab.cli.output import console, fail
from shoplab.operations.dead_letters import list_dead_letters, replay_dead_letter
from shoplab.platform.messaging.dead_letters import DeadLetter, DeadLetterNotFound

dlq_app = typer.Typer(
    help="Dead letters: the messages a service gave up on (microservices mode).",
    no_args_is_help=True,
)


@dlq_app.command("list")
def dlq_list(
    data_dir: DataDir = Path(".shoplab"),
    broker: Broker = None,
    as_json: AsJson = False,
) -> None:
    """List the dead letters, oldest first."""
    letters = on_broker(list_dead_letters(broker_url(data_dir, broker), topology()))
    if as_json:
        print(json.dumps([_letter_json(letter) for letter in letters], indent=2))
        return
    if not letters:
        console.print("no dead letters.")
        return
    table = Table("message id", "type", "consumer", "deliveries", "error", "dead-lettered at")
    for letter in letters:
        at = letter.dead_lettered_at
        table.add_row(
            letter.message_id or f"(unreadable, #{letter.sequence})",
            letter.type,
            letter.consumer,
            "" if letter.deliveries is None else str(letter.deliveries),
            letter.error,
            at.isoformat(timespec="seconds") if at else "",
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    message_id: Annotated[str, typer.Argument(help="The message id, as `dlq list` shows it.")],
    data_dir: DataDir = Path(".shoplab"),
    broker: Broker = None,
) -> None:
    """Publish a dead-lettered message again to its original subject, then delete it."""
    url = broker_url(data_dir, broker)
    try:
        replayed = on_broker(replay_dead_letter(url, message_id, topology()))
    except DeadLetterNotFound:
        fail(f"no dead letter with message id {message_id} in {topology().dead_letters()}.")
    except ValueError as error:
        fail(str(error))
    letter = replayed.letter
    console.print(
        f"replayed {letter.message_id} ({letter.type}) to {letter.original_subject} "
        f"({replayed.stream} #{replayed.sequence}); "
        f"removed {replayed.removed} dead letter(s)."
    )


def _letter_json(letter: DeadLetter) -> dict[str, Any]:
    at = letter.dead_lettered_at
    return {
        "sequence": letter.sequence,
        "message_id": letter.message_id,
        "type": letter.type,
        "original_subject": letter.original_subject,
        "consumer": letter.consumer,
        "deliveries": letter.deliveries,
        "error": letter.error,
        "dead_lettered_at": at.isoformat() if at else None,
        "envelope": letter.envelope(),
    }
