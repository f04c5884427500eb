import threading
from collections.abc import Iterator

import pytest

from connectors.overlap import WriteBehind, read_ahead


def test_read_ahead_keeps_order_and_uses_one_worker_thread() -> None:
    threads: set[int] = set()

    def source() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    with read_ahead(source()) as items:
        assert list(items) == list(range(50))
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_read_ahead_raises_the_source_error_in_the_caller() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ValueError("bad row")

    with read_ahead(source()) as items, pytest.raises(ValueError, match="bad row"):
        list(items)


def test_read_ahead_stops_reading_when_the_caller_stops() -> None:
    read: list[int] = []

    def source() -> Iterator[int]:
        for i in range(100):
            read.append(i)
            yield i

    with read_ahead(source()) as items:
        for item in items:
            if item == 3:
                break
    assert read == [0, 1, 2, 3, 4]  # at most one item ahead; nothing after the block


def test_write_behind_runs_in_order_and_reports_errors() -> None:
    done: list[int] = []
    behind = WriteBehind()
    for i in range(5):
        behind.submit(lambda i=i: done.append(i))
    behind.close()
    assert done == [0, 1, 2, 3, 4]

    def fail() -> None:
        raise OSError("disk full")

    failing = WriteBehind()
    failing.submit(fail)
    with pytest.raises(OSError, match="disk full"):
        failing.submit(lambda: None)
    failing.close()  # the error was reported once; closing is clean
