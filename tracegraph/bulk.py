"""Building big structures fast: the cyclic garbage collector paused while they are built.

Python's collector runs every few hundred allocations and, every so often, walks
every live object; while tracegraph builds a graph, a diagram or an export of
a 100,000-node trace it only allocates (nothing cyclic is freed), so those
walks are wasted: they were half the time of building a graph and two thirds
of walking one (measured with ``bench/cli_bench.py``).

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
from collections.abc import Iterator


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
