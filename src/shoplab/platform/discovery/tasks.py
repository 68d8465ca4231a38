"""Stopping a background task for sure, on Python 3.11.

Before 3.12, ``asyncio.wait_for`` returns the result instead of raising when a
cancellation arrives as the awaited future completes (CPython gh-86296), and
nats-py awaits every reply through ``wait_for``. A heartbeat or watch task
cancelled just as a reply came back would then run on, and whoever awaited it
would hang. So cancel again until the task is done.
"""

import asyncio

import structlog

log = structlog.get_logger(__name__)

RECANCEL_SECONDS = 0.1


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    if not task.cancelled() and (error := task.exception()) is not None:
        log.warning("background task had failed", task=task.get_name(), error=repr(error))
