"""Run the API gateway in this process: ``python -m shoplab.gateway --port 8080``.

The supervisor (``shoplab up``) starts this module with the services; it finds
their instances in the registry on ``SHOPLAB_BROKER_URL`` (``SHOPLAB_SERVICE_URLS``
is the fallback without a registry).
"""

import argparse

from shoplab.gateway.app import Gateway
from shoplab.platform.http.server import serve
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.setup import configure_telemetry


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shoplab.gateway")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    settings = PlatformSettings()
    configure_telemetry("gateway", settings)
    serve(Gateway(settings).app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
