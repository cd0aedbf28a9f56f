"""Which trace is running in this thread, and named scopes (``with tg.scope("layer1")``).

Example:
    >>> active_tape() is None
    True
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .record import Tape

_ACTIVE: contextvars.ContextVar[Any] = contextvars.ContextVar("tracegraph_active_tape",
                                                              default=None)


def active_tape() -> Tape | None:
    """The tape of the innermost trace running in this thread/context, if any.

    Example:
        >>> import tracegraph as tg
        >>> with tg.Tracer() as tr:
        ...     active_tape() is tr.tape
        True
    """
    return _ACTIVE.get()


class activate:
    """Make ``tape`` the active one inside the block (for :func:`scope` and nesting).

    A class rather than a generator: every trace enters one, and a generator-based
    context manager costs several times as much.

    Example:
        >>> from tracegraph.core import Tape
        >>> with activate(Tape()) as tape:
        ...     active_tape() is tape
        True
    """

    __slots__ = ("tape", "_token")

    def __init__(self, tape: Tape) -> None:
        self.tape = tape

    def __enter__(self) -> Tape:
        self._token = _ACTIVE.set(self.tape)
        return self.tape

    def __exit__(self, *exc_info: Any) -> None:
        _ACTIVE.reset(self._token)


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Group the operations recorded inside the block under ``name``.

    Diagrams draw a scope as a cluster and collapse it into one box when the
    graph is too large.  Scopes nest.  Outside a trace this does nothing, so
    the same code runs untraced.

    Example:
        >>> import numpy as np, tracegraph as tg
        >>> def f(x):
        ...     with tg.scope("layer1"):
        ...         h = np.tanh(x * 2.0)
        ...     return h * h
        >>> t = tg.trace(f, x=0.5)
        >>> sorted({d["scope"] for _, d in t.graph.nodes(data=True)})
        [(), ('layer1',)]
    """
    if not isinstance(name, str) or not name:
        raise ValueError("scope name must be a non-empty string")
    tape = _ACTIVE.get()
    if tape is None:
        yield
        return
    tape.push_scope(name)
    try:
        yield
    finally:
        tape.pop_scope()
