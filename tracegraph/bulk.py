"""Building big structures fast: the cyclic garbage collector paused, or spaced out,
while they are built.

Python's collector runs every few hundred allocations and, every so often, walks
every live object; while tracegraph builds a graph, a diagram or an export of
a 100,000-node trace it only allocates (nothing cyclic is freed), so those
walks are wasted: they were half the time of building a graph and two thirds
of walking one (measured with ``bench/cli_bench.py``).  While a long trace
records, the user's own code runs too, so the collector is not paused there but
runs less often (:class:`collections_spaced`).

Example:
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Inside the block the cyclic garbage collector does not run (nested blocks are fine;
    the collector is enabled again only if it was enabled before).

    Example:
        >>> import gc
        >>> with collector_paused():
        ...     with collector_paused():
        ...         pass
        ...     gc.isenabled()   # the inner block did not switch it back on
        False
        >>> gc.isenabled()
        True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class collections_spaced:
    """Inside the block the collector looks at young objects every 50,000 allocations
    (Python's default is 700) and at older ones every 1,000 of those (default 10).

    Tracing records two objects per operation and frees none of them: at the default
    thresholds the collector's walks over them took 60% of tracing a scalar chain of
    100,000 or 1,000,000 steps (``bench/run.py``'s S1); spaced out, tracing takes what
    it takes with the collector off.  Spacing the collections out, rather than pausing
    the collector, keeps it collecting the cyclic garbage the traced code itself makes.
    Blocks nest; the thresholds go back when the outermost block ends, unless the code
    inside set its own.  A trace enters the block once it has recorded 4,096 operations:
    for a short one, the collector's walks cost less than changing the thresholds.

    Example:
        >>> import gc
        >>> before = gc.get_threshold()
        >>> with collections_spaced():
        ...     gc.get_threshold()[0] >= 50_000
        True
        >>> gc.get_threshold() == before
        True
    """

    __slots__ = ()
    YOUNG = 50_000
    OLDER = 1000
    _depth = 0
    _saved: tuple[int, ...] = ()
    _spaced: tuple[int, ...] = ()
    _lock = threading.Lock()  # traces in several threads share the one collector

    def __enter__(self) -> None:
        cls = collections_spaced
        with cls._lock:
            cls._depth += 1
            if cls._depth == 1:
                saved = cls._saved = gc.get_threshold()
                young, older, *oldest = saved
                if young:  # 0 means the user switched automatic collection off
                    spaced = (max(young, cls.YOUNG), max(older, cls.OLDER), *oldest)
                    gc.set_threshold(*spaced)
                    cls._spaced = spaced

    def __exit__(self, *exc_info: Any) -> None:
        cls = collections_spaced
        with cls._lock:
            cls._depth -= 1
            if cls._depth == 0:
                if cls._spaced and gc.get_threshold() == cls._spaced:
                    gc.set_threshold(*cls._saved)
                cls._spaced = ()
