"""Run the modular monolith in this process: ``python -m shoplab.monolith --port 8080``.

The supervisor (``shoplab up --mode monolith``) starts this module as its child;
settings come from ``SHOPLAB_*`` variables.
"""

import argparse

from shoplab.monolith.app import Monolith
from shoplab.platform.http.server import serve
from shoplab.platform.settings import PlatformSettings
from shoplab.platform.telemetry.setup import configure_telemetry


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m shoplab.monolith")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    settings = PlatformSettings()
    configure_telemetry("monolith", settings)
    serve(Monolith(settings).app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
