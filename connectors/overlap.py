"""Overlap the ingest's stages on threads: read ahead, and write behind.

Parsing (pyarrow's CSV reader), Parquet encoding and compression release the
GIL; HMAC of short values does not. So the ingest reads the next batch and
writes the previous row group on worker threads while the calling thread
pseudonymises. Each helper keeps at most one item in flight, so memory stays
bounded, and re-raises a worker's error in the calling thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["WriteBehind", "read_ahead"]

T = TypeVar("T")


@contextlib.contextmanager
def read_ahead(items: Iterator[T]) -> Iterator[Iterator[T]]:
    """``items``, with the next one fetched on a worker thread while this one is used.

    ``items`` is only ever advanced by one thread at a time. On leaving the
    block the worker has stopped, so the source may be closed safely after.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sluis-read") as pool:
        pending: list[Future[tuple[bool, T | None]]] = []

        def fetch() -> tuple[bool, T | None]:
            for item in items:
                return True, item
            return False, None

        def generate() -> Iterator[T]:
            pending.append(pool.submit(fetch))
            while True:
                more, item = pending.pop().result()
                if not more:
                    return
                pending.append(pool.submit(fetch))
                yield item  # type: ignore[misc]  # more is True: item is a T

        try:
            yield generate()
        finally:
            for future in pending:  # the source may hold an error the caller no longer needs
                with contextlib.suppress(BaseException):
                    future.result()


class WriteBehind:
    """Runs one write at a time on a worker thread; :meth:`submit` waits for the last.

    Call :meth:`close` when done (also on errors): it waits for the write in flight.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sluis-write")
        self._pending: Future[None] | None = None

    def submit(self, write: Callable[[], None]) -> None:
        """Wait for the write in flight (raising its error), then start ``write``."""
        self.wait()
        self._pending = self._pool.submit(write)

    def wait(self) -> None:
        """Wait for the write in flight; raise its error, if any."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the write in flight and stop the worker; raise the write's error."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
