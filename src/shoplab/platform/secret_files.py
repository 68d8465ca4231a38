"""Secrets on disk: readable by the owner only from the first byte, never half written."""

import os
import tempfile
from pathlib import Path


def write_new_secret(path: Path, content: bytes) -> bool:
    """Create ``path`` with ``content`` unless it exists; True when this call created it.

    The content goes to a private temporary file first, which is then linked into
    place: a crash leaves either no file or a whole one, and of two processes
    starting at once exactly one wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:  # mkstemp creates it with mode 0600
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)
