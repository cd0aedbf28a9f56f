"""``np.r_[...]`` and ``np.c_[...]`` of traced values.

numpy's index tricks convert every piece with ``np.array(piece, subok=True, ndmin=...)``
and then call ``np.concatenate`` on the pieces.  A traced value asked for an array by
them hands over a :class:`ConcatenatorPiece`: an ndarray subclass that remembers the
traced value it came from.  numpy keeps the subclass through its reshaping (``subok``),
and its ``np.concatenate`` call then arrives here, where each piece is swapped back for
its traced value, reshaped as numpy reshaped the piece (the tricks only insert unit axes,
so the elements keep their order), and the concatenation is recorded like any other.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> t = tg.trace(lambda x, y: np.sum(np.c_[x, y] ** 2), x=np.ones(2), y=np.full(2, 2.0))
    >>> t.value, t.grads["y"].tolist()
    (10.0, [4.0, 4.0])
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .leaks import array_leak_error

# np.r_ and np.c_ share numpy's AxisConcatenator.__getitem__ (its module moved in numpy 2)
_CONCATENATOR_CODE = type(np.r_).__getitem__.__code__


def asked_by_concatenator(depth: int = 2) -> bool:
    """Whether ``np.r_``/``np.c_`` (numpy's AxisConcatenator) is converting a value.

    ``depth`` counts frames from this function's caller (the ``__array__`` method)."""
    return sys._getframe(depth).f_code is _CONCATENATOR_CODE


class ConcatenatorPiece(np.ndarray):
    """The numbers of a traced value on their way through ``np.r_``/``np.c_``.

    Only ``np.concatenate`` may read it (that call records the traced concatenation);
    any other numpy operation on it would compute with untraced numbers, so it refuses.
    """

    traced: Any = None

    def __array_finalize__(self, source: Any) -> None:
        self.traced = getattr(source, "traced", None)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        if func is np.concatenate and args:
            traced = [piece for piece in args[0] if type(piece) is ConcatenatorPiece]
            if all(np.ndim(piece.traced) == 0 for piece in traced):
                # traced numbers only: an object array, packed into one node where it
                # meets a traced operation, as np.array([a, b]) is
                pieces = [_holding(piece) for piece in args[0]]
            else:
                pieces = [_reshaped(piece) for piece in args[0]]
            return np.concatenate(pieces, *args[1:], **kwargs)
        raise array_leak_error(self.traced)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise array_leak_error(self.traced)


def _reshaped(piece: Any) -> Any:
    """A piece as its traced value, shaped as numpy shaped the piece."""
    if type(piece) is not ConcatenatorPiece:
        return piece
    if np.shape(piece.traced) == piece.shape:
        return piece.traced
    return np.reshape(piece.traced, piece.shape)


def _holding(piece: Any) -> np.ndarray:
    """A piece as an object array; a traced number's piece holds the traced number."""
    if type(piece) is not ConcatenatorPiece:
        return np.asarray(piece, dtype=object)
    holder = np.empty(piece.shape, dtype=object)
    holder.fill(piece.traced)
    return holder


def concatenator_piece(traced: Any, numbers: Any) -> ConcatenatorPiece:
    """``numbers`` (the plain value of ``traced``) as a piece that remembers ``traced``."""
    piece = np.asarray(numbers).view(ConcatenatorPiece)  # numpy only reads it: no copy
    piece.traced = traced
    return piece
