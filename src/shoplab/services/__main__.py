"""Run one service: ``python -m shoplab.services orders --port 8101``.

The supervisor (``shoplab up``) starts one of these per context; settings come
from ``SHOPLAB_*`` variables (data folder, broker, gRPC port).
"""

import argparse
from collections.abc import Callable
from importlib import import_module

from shoplab.platform.host import ServiceHost, ServiceParts
from shoplab.platform.http.server import serve
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.setup import configure_telemetry

SERVICES = ("catalog", "identity", "inventory", "orders", "payments", "notifications", "history")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shoplab.services")
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = PlatformSettings()
    configure_telemetry(args.service, settings)
    build: Callable[[ServiceHost], ServiceParts] = import_module(
        f"shoplab.services.{args.service}"
    ).build
    host = ServiceHost(args.service, settings, http_port=args.port, grpc_port=settings.grpc_port)
    serve(host.app(build(host)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
