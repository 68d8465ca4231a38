"""A deadline for a request's body: a client that sends it too slowly gets a 408.

A slow client ties up a connection and the task serving it for as long as it
likes (a "slow POST" attack); uvicorn bounds only the idle time between requests.
The deadline runs from the moment the app first asks for the body until its last
piece has arrived: the server's own work before that (checking the token, counting
the rate limits) and the time spent answering are not the client's, and not counted. The head
has a deadline of its own, at the connection level (``edge_protocol``).
"""

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shoplab.platform.http.problems import problem


class ClientTooSlow(Exception):
    """The body did not arrive in time."""


class BodyReadDeadline:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def send_noting_answer(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _within(receive, self.seconds), send_noting_answer)
        except ClientTooSlow:
            if answered:
                raise
            refusal = problem(
                408,
                f"The request body did not arrive within {self.seconds:g} seconds.",
                headers={"Connection": "close"},
            )
            await refusal(scope, receive, send)


def _within(receive: Receive, seconds: float) -> Receive:
    """A ``receive`` that raises ``ClientTooSlow`` once the body is late; then a plain one."""
    deadline: float | None = None
    complete = False

    async def receive_in_time() -> Message:
        nonlocal complete, deadline
        if complete:
            return await receive()
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + seconds
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise ClientTooSlow from None
        complete = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return receive_in_time
