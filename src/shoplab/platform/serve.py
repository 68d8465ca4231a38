"""Serve an ASGI app with uvicorn, tuned the same way in every process."""

import uvicorn
from fastapi import FastAPI

KEEP_ALIVE_SECONDS = 30
"""How long an idle connection stays open. Callers that pool connections (the gateway)
must give up an idle one sooner: a request written on a connection that the server is
closing at that very moment fails with a read error, and a POST cannot be sent again."""


def serve(app: FastAPI, *, host: str, port: int) -> None:
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
    )
