"""``scipy.signal`` for traced values: convolve, correlate, fftconvolve (any dimension).

Example:
    >>> import numpy as np, tracegraph as tg
    >>> from tracegraph.scipy import signal
    >>> t = tg.trace(lambda k: np.sum(signal.convolve(np.arange(4.0), k, mode="valid")),
    ...              k=np.array([1.0, -1.0]))
    >>> t.value, t.grads["k"].tolist()
    (3.0, [6.0, 3.0])
"""

from __future__ import annotations

from typing import Any

import scipy.signal as _scipy_signal

from ..rules import convolution
from ..rules.arguments import has_traced

__all__ = ["convolve", "correlate", "fftconvolve"]


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.convolve``: in1 ∗ in2 in ``mode`` full / same / valid.

    Example:
        >>> import numpy as np
        >>> convolve(np.ones(3), np.ones(2)).tolist()
        [1.0, 2.0, 2.0, 1.0]
    """
    if not has_traced(in1, in2):
        return _scipy_signal.convolve(in1, in2, mode=mode, method=method)
    return convolution.convolve(convolution.CONVOLVE, in1, in2, mode)


def fftconvolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None) -> Any:
    """``scipy.signal.fftconvolve``: the same convolution (computed by FFT when not traced).

    Example:
        >>> import numpy as np
        >>> [round(v, 6) for v in fftconvolve(np.ones(3), np.ones(2)).tolist()]
        [1.0, 2.0, 2.0, 1.0]
    """
    if not has_traced(in1, in2):
        return _scipy_signal.fftconvolve(in1, in2, mode=mode, axes=axes)
    if axes is not None:
        raise ValueError("tracegraph traces fftconvolve over every axis (axes=None) only")
    return convolution.convolve(convolution.CONVOLVE, in1, in2, mode, "scipy.signal.fftconvolve")


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.correlate``: the cross-correlation of real inputs.

    Example:
        >>> import numpy as np
        >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0]), mode="valid").tolist()
        [1.0, 2.0]
    """
    if not has_traced(in1, in2):
        return _scipy_signal.correlate(in1, in2, mode=mode, method=method)
    return convolution.correlate(convolution.CONVOLVE, in1, in2, mode)
