"""WAL checkpoints on a thread of their own, off the event loop.

In WAL mode a commit appends the changed pages to the ``-wal`` file; a *checkpoint* copies
them back into the database file, and syncs it. By default SQLite runs one inside whichever
``COMMIT`` finds the log past 1,000 pages: every few hundred orders, one commit (and the
event loop that runs it) stops for the copy and the sync, and every request waiting on that
loop stops with it. Measured in the monolith under load, commits took about a seventh of
the process's samples.

So the writer turns automatic checkpoints off, and this thread runs them instead: a commit
marks the file changed (``changed``), and the thread, woken by that, lets
``EVERY_SECONDS`` pass (so one checkpoint covers many commits), then runs a ``PASSIVE``
checkpoint on its own connection. A passive checkpoint waits for nobody: it copies what no
reader still needs, and the rest next time. sqlite3 releases the GIL while it works, so the
copy runs on the other core while the loop serves. An idle file costs nothing: the thread
sleeps until the next commit.
"""

import sqlite3
import threading

import structlog

log = structlog.get_logger(__name__)

EVERY_SECONDS = 0.2
"""The longest a committed page waits to be copied back; the log stays a few MB."""


class Checkpointer:
    """A daemon thread that checkpoints one SQLite file after commits."""

    def __init__(self, path: str, every_seconds: float = EVERY_SECONDS) -> None:
        self._path = path
        self._every = every_seconds
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        """A commit wrote to the log (cheap: one flag, no wake-up once set)."""
        if not self._changed.is_set():
            self._changed.set()

    def close(self) -> None:
        """Run a last checkpoint and stop the thread."""
        self._stop.set()
        self._changed.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=0, check_same_thread=False)
        try:
            while not self._stop.is_set():
                self._changed.wait()
                self._stop.wait(self._every)  # let commits gather; a stop cuts it short
                self._changed.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # the next commit brings the next try
                    log.warning("checkpoint failed", path=self._path, error=str(error))
        finally:
            connection.close()
