"""Named functions numpy lacks, importable from ``tracegraph`` itself.

Each is a single node in the graph with its textbook derivative on the edge
(``∂S/∂G = S·(1 − S)`` for the sigmoid), and works on plain numbers and
arrays too, so the same code runs traced or not.

Example:
    >>> from tracegraph import sigmoid
    >>> print(sigmoid(0.0))   # numpy scalar, as np.tanh(0.0) is
    0.5
"""

from __future__ import annotations

from typing import Any

from .core import apply, normalize_axis
from .rules import neural


def sigmoid(x: Any) -> Any:
    """The logistic function σ(x) = 1 / (1 + e^−x); derivative σ(x)·(1 − σ(x)).

    Example:
        >>> import tracegraph as tg
        >>> tg.trace(sigmoid, x=0.0).grads["x"]
        0.25
    """
    return apply(neural.SIGMOID, x)


def relu(x: Any) -> Any:
    """max(x, 0); derivative 1 where x > 0, 0 where x < 0, and ½ at 0.

    At 0, x ties with 0 and the tie shares the gradient, exactly as for
    ``np.maximum(x, 0)`` and ``np.clip(x, 0, None)`` (docs/non-differentiable.md).

    Example:
        >>> import numpy as np
        >>> relu(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return apply(neural.RELU, x)


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / Σ exp(x) along ``axis`` (computed stably).

    Example:
        >>> import numpy as np
        >>> softmax(np.zeros(4)).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    return apply(neural.SOFTMAX, x, axis=int(axis))


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x − logsumexp(x) along ``axis``: log-probabilities, computed stably.

    Example:
        >>> import numpy as np
        >>> round(float(log_softmax(np.zeros(2))[0]), 4)
        -0.6931
    """
    return apply(neural.LOG_SOFTMAX, x, axis=int(axis))


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """log Σ exp(x) over ``axis`` without overflow; derivative softmax(x).

    Example:
        >>> import numpy as np
        >>> round(float(logsumexp(np.array([1000.0, 1000.0]))), 4)
        1000.6931
    """
    return apply(neural.LOGSUMEXP, x, axis=normalize_axis(axis), keepdims=bool(keepdims))


def mse(pred: Any, target: Any) -> Any:
    """Mean squared error mean((pred − target)²); ∂/∂pred = 2(pred − target)/N.

    Example:
        >>> import numpy as np
        >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
        2.0
    """
    return apply(neural.MSE, pred, target)


def binary_cross_entropy(p: Any, y: Any) -> Any:
    """−mean(y·ln p + (1 − y)·ln(1 − p)) for predicted probabilities ``p`` and labels ``y``.

    Example:
        >>> round(binary_cross_entropy(0.5, 1.0), 4)
        0.6931
    """
    return apply(neural.BINARY_CROSS_ENTROPY, p, y)


def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1) -> Any:
    """Cross-entropy of softmax(logits) against ``labels``, averaged over rows.

    ``labels`` are one-hot rows, probability rows, or integer class indices.
    The gradient with respect to the logits is (softmax(logits) − labels)/N.

    Example:
        >>> import numpy as np
        >>> round(softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3])), 4)
        1.3863
    """
    return apply(neural.SOFTMAX_CROSS_ENTROPY, logits, labels, axis=int(axis))


def kl_divergence(p: Any, q: Any) -> Any:
    """KL(p ‖ q) = Σ p·ln(p/q) for distributions p and q (terms with p = 0 count 0).

    Example:
        >>> import numpy as np
        >>> kl_divergence(np.array([0.5, 0.5]), np.array([0.5, 0.5]))
        0.0
    """
    return apply(neural.KL_DIVERGENCE, p, q)


cross_entropy = softmax_cross_entropy
