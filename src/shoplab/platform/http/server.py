"""Serve an ASGI app with uvicorn, tuned the same way in every process.

The process is the edge: the gateway in the microservices mode, the monolith's own
app otherwise. No proxy stands before it, so ``X-Forwarded-For`` and
``X-Forwarded-Proto`` are not trusted (``proxy_headers=False``), whoever sends them:
the client address the rate limits count is the connection's own.

Request heads are read by ``EdgeProtocol`` (httptools with a deadline and a size
ceiling), configured from the ``EdgeSettings`` the app was created with.

Under ``shoplab up`` the listening socket is the supervisor's: it binds each process's
HTTP port when it makes the plan and hands the socket down (``SHOPLAB_LISTEN_FD``). A
port chosen free and bound only later, once the process has imported everything, may
be taken meanwhile by another program; and a restarted process finds its port waiting,
with the connections that came in meanwhile queued instead of refused.
"""

import os
import socket
import sys

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE

from shoplab.platform.http.edge_protocol import edge_protocol
from shoplab.platform.http.edge_settings import edge_settings_of

KEEP_ALIVE_SECONDS = 30
"""How long an idle connection stays open. Callers that pool connections (the gateway)
must give up an idle one sooner: a request written on a connection that the server is
closing at that very moment fails with a read error, and a POST cannot be sent again."""


LISTEN_FD_ENV = "SHOPLAB_LISTEN_FD"
"""The file descriptor of a listening socket handed down by the supervisor."""


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Serve on the socket the supervisor handed down, else bind ``host:port``."""
    server = uvicorn.Server(uvicorn_config(app, host=host, port=port))
    server.run(sockets=inherited_listener())
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def inherited_listener() -> list[socket.socket] | None:
    fd = os.environ.get(LISTEN_FD_ENV)
    return [socket.socket(fileno=int(fd))] if fd else None


def uvicorn_config(app: FastAPI, *, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http=edge_protocol(edge_settings_of(app)),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        server_header=False,
        proxy_headers=False,
    )
