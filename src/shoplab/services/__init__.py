"""The composition roots of the microservices mode: one process per bounded context.

Each module here builds one context on its own database and describes its
service to the chassis (``platform.service``): its routers, the messages it
consumes, its outbox and what it must do at start. ``python -m shoplab.services
<context> --port N`` runs one of them.
"""
