"""Run one service: ``python -m shoplab.services orders --port 8101``.

The supervisor (``shoplab up``) starts one of these per context; settings come
from ``SHOPLAB_*`` variables (data folder, broker, gRPC port).
"""

import argparse

from shoplab.contracts.contexts import NAMES
from shoplab.platform.host import ServiceHost
from shoplab.platform.http.server import serve
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.setup import configure_telemetry
from shoplab.services import SERVICES


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shoplab.services")
    parser.add_argument("service", choices=NAMES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = PlatformSettings()
    configure_telemetry(args.service, settings)
    host = ServiceHost(args.service, settings, http_port=args.port, grpc_port=settings.grpc_port)
    serve(host.app(SERVICES[args.service](host)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
