"""A program the launcher forks in tests: it writes what it was given, then exits as asked."""

import gc
import json
import os
import sys

if __name__ == "__main__":
    out, code = sys.argv[1], int(sys.argv[2])
    print("probe says hello", flush=True)
    with open(out, "w") as written:
        json.dump(
            {
                "argv": sys.argv,
                "probe": os.environ.get("PROBE"),
                "listen_fd": os.environ.get("SHOPLAB_LISTEN_FD"),
                "preloaded": "shoplab.platform.host" in sys.modules,
                "frozen": gc.get_freeze_count(),
            },
            written,
        )
    if code == 99:
        import time

        time.sleep(60)
    sys.exit(code)
