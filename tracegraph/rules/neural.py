"""Named functions numpy lacks, each one node with its textbook derivative:
sigmoid, relu, softmax, log_softmax, logsumexp, and the losses (mse, binary
and softmax cross-entropy, KL divergence).

Losses reduce to a scalar (mean over the batch, as in the lecture notes), so
a diagram shows ``Loss = softmax_cross_entropy(logits, Y)`` as one box whose
edge to ``logits`` carries ``(softmax(logits) − Y)/N``.  The user-facing
functions with docstrings live in :mod:`tracegraph.ops`.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import plain_value
from ..extend import defprimitive
from .arithmetic import winner_share
from .reductions import reduced_axes, restore_axes

NEURAL = "neural network"


# --------------------------------------------------------------------------- activations


def _sigmoid(x):
    x = np.asarray(x, dtype=float)
    # Two branches so neither exp can overflow.
    positive = x >= 0
    z = np.exp(-np.abs(x))
    out = np.where(positive, 1.0 / (1.0 + z), z / (1.0 + z))
    return out if out.ndim else out[()]


def _relu(x):
    return np.maximum(x, 0.0)


SIGMOID = defprimitive(
    "sigmoid", _sigmoid, display="σ({x})", category=NEURAL,
    grads={"x": (lambda g, out, x: g * out * (1.0 - out), "{out:p}·(1 − {out:p})")},
    doc="σ(x) = 1 / (1 + e^−x)",
)
RELU = defprimitive(
    "relu", _relu, display="relu({x})", category=NEURAL,
    grads={"x": (lambda g, out, x: g * winner_share(x, 0.0), "[{x} > 0] + ½[{x} = 0]")},
    kink=lambda x: float(np.min(np.abs(x))) if np.size(x) else math.inf,
    doc="max(x, 0): derivative ½ at 0, where x ties with 0, as for np.maximum(x, 0)",
)


# --------------------------------------------------------------------------- softmax family


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x, dtype=float)
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    total = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    if not keepdims:
        total = np.squeeze(total, axis=reduced_axes(x.ndim, axis)) if x.ndim else total
    return total if np.ndim(total) else total[()]


def _logsumexp_vjp(g, out, x, axis=None, keepdims=False):
    shape = np.shape(x)
    return restore_axes(g, shape, axis, keepdims) * np.exp(
        x - restore_axes(out, shape, axis, keepdims))


def _softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    shifted = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)


def _softmax_vjp(g, out, x, axis=-1):
    return out * (g - np.sum(g * out, axis=axis, keepdims=True))


def _log_softmax(x, axis=-1):
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _log_softmax_vjp(g, out, x, axis=-1):
    return g - np.exp(out) * np.sum(g, axis=axis, keepdims=True)


def _softmax_sample(rng):
    ndim = int(rng.integers(1, 3))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    return (rng.normal(size=shape),), {"axis": int(rng.integers(-ndim, ndim))}


def _logsumexp_sample(rng):
    ndim = int(rng.integers(0, 3))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    axis = None if ndim == 0 or rng.integers(0, 2) else int(rng.integers(-ndim, ndim))
    return (rng.normal(size=shape),), {"axis": axis, "keepdims": bool(rng.integers(0, 2))}


SOFTMAX = defprimitive(
    "softmax", _softmax, display="softmax({x})", category=NEURAL,
    grads={"x": (_softmax_vjp, "{out:p}ᵢ(δᵢⱼ − {out:p}ⱼ)")},
    sample=_softmax_sample, doc="softmax(x, axis=-1) = exp(x) / Σ exp(x)",
)
LOG_SOFTMAX = defprimitive(
    "log_softmax", _log_softmax, display="log_softmax({x})", category=NEURAL,
    grads={"x": (_log_softmax_vjp, "δᵢⱼ − softmax({x})ⱼ")},
    sample=_softmax_sample, doc="log_softmax(x, axis=-1) = x − logsumexp(x)",
)
LOGSUMEXP = defprimitive(
    "logsumexp", _logsumexp, display="logsumexp({x})", category=NEURAL,
    grads={"x": (_logsumexp_vjp, "softmax({x})")},
    sample=_logsumexp_sample, doc="log Σ exp(x) over axis, computed stably",
)


# --------------------------------------------------------------------------- losses


def _full(term, a, b):
    """``term`` broadcast to the common shape of ``a`` and ``b``."""
    return np.broadcast_to(term, np.broadcast_shapes(np.shape(a), np.shape(b)))


def _size(a, b) -> int:
    return max(math.prod(np.broadcast_shapes(np.shape(a), np.shape(b))), 1)


def _mse(pred, target):
    return float(np.mean(np.square(np.subtract(pred, target))))


def _mse_vjp(sign):
    def vjp(g, out, pred, target):
        return sign * g * 2.0 * np.subtract(pred, target) / _size(pred, target)
    return vjp


def _bce(p, y):
    terms = np.multiply(y, np.log(p)) + np.multiply(np.subtract(1.0, y), np.log1p(-np.asarray(p)))
    return float(-np.mean(_full(terms, p, y)))


def _bce_vjp_p(g, out, p, y):
    return g * np.subtract(p, y) / (np.multiply(p, np.subtract(1.0, p)) * _size(p, y))


def _bce_vjp_y(g, out, p, y):
    return g * _full(np.log1p(np.negative(p)) - np.log(p), p, y) / _size(p, y)


def _rows(logits, axis) -> int:
    shape = np.shape(plain_value(logits))
    return max(int(np.prod(shape, dtype=np.int64)) // max(shape[axis], 1), 1) if shape else 1


def _as_targets(labels, logits, axis):
    if type(labels) is not np.ndarray and not isinstance(labels, (float, int, list, tuple)):
        return labels  # traced probabilities
    labels = np.asarray(labels)
    logits_shape = np.shape(plain_value(logits))
    if np.issubdtype(labels.dtype, np.integer) and labels.ndim == len(logits_shape) - 1:
        # Integer class indices become one-hot rows.
        classes = logits_shape[axis]
        return np.moveaxis(np.eye(classes)[labels], -1, axis)
    return labels.astype(float, copy=False)


def _softmax_xent(logits, labels, axis=-1):
    targets = _as_targets(labels, logits, axis)
    logp = _log_softmax(np.asarray(logits, float), axis=axis)
    return float(-np.sum(targets * logp) / _rows(logits, axis))


# The VJPs call the softmax primitives (not their implementations), so they also run
# on traced values: second derivatives of a cross-entropy loss.
def _softmax_xent_vjp_logits(g, out, logits, labels, axis=-1):
    targets = _as_targets(labels, logits, axis)
    probs = SOFTMAX(logits, axis=axis)
    mass = np.sum(targets, axis=axis, keepdims=True)
    return g * (probs * mass - targets) / _rows(logits, axis)


def _softmax_xent_vjp_labels(g, out, logits, labels, axis=-1):
    return -g * LOG_SOFTMAX(logits, axis=axis) / _rows(logits, axis)


def _xent_sample(rng):
    rows, classes = (int(v) for v in rng.integers(1, 4, size=2))
    shape = (rows, classes) if rng.integers(0, 2) else (classes,)
    labels = rng.dirichlet(np.ones(classes), size=shape[:-1] or None)
    return (rng.normal(size=shape), labels), {"axis": -1}


def _kl(p, q):
    p = np.asarray(p, dtype=float)
    # 0·ln 0 = 0: categories with no probability mass contribute nothing.
    safe_p, safe_q = np.where(p > 0, p, 1.0), np.where(p > 0, q, 1.0)
    return float(np.sum(_full(np.where(p > 0, p * (np.log(safe_p) - np.log(safe_q)), 0.0),
                              p, q)))


MSE = defprimitive(
    "mse", _mse, display="mse({pred}, {target})", category=NEURAL,
    grads={"pred": (_mse_vjp(1.0), "2·({pred} − {target})/N"),
           "target": (_mse_vjp(-1.0), "−2·({pred} − {target})/N")},
    doc="mean squared error: mean((pred − target)²)",
)
BINARY_CROSS_ENTROPY = defprimitive(
    "binary_cross_entropy", _bce, display="bce({p}, {y})", category=NEURAL,
    grads={"p": (_bce_vjp_p, "({p} − {y}) / ({p}·(1 − {p})·N)"),
           "y": (_bce_vjp_y, "(ln(1 − {p}) − ln {p})/N")},
    domain={"p": (0.05, 0.95), "y": (0.0, 1.0)},
    doc="−mean(y·ln p + (1 − y)·ln(1 − p)) for probabilities p",
)
SOFTMAX_CROSS_ENTROPY = defprimitive(
    "softmax_cross_entropy", _softmax_xent, display="xent(softmax({logits}), {labels})",
    category=NEURAL,
    grads={"logits": (_softmax_xent_vjp_logits, "(softmax({logits}) − {labels})/N"),
           "labels": (_softmax_xent_vjp_labels, "−log_softmax({logits})/N")},
    sample=_xent_sample,
    doc="−mean over rows of Σ labels·log_softmax(logits); labels one-hot, "
        "probabilities or integer classes",
)
def _kl_vjp_p(g, out, p, q):
    # At p = 0 the slope of p·ln(p/q) is ln 0 = −inf; where q = 0 too, KL(h ‖ 0) = +inf
    # for every h > 0, so the difference quotient from the only side there is is +inf.
    both = np.equal(p, 0) & np.equal(q, 0)
    if not np.any(both):
        return g * (np.log(p) - np.log(q) + 1.0)
    local = np.log(np.where(both, 1.0, p)) - np.log(np.where(both, 1.0, q)) + 1.0
    return g * np.where(both, np.inf, local)


def _kl_vjp_q(g, out, p, q):
    # −p/q, and 0 where p = 0 (the term is 0 for every q), also at q = 0 (0/0)
    both = np.equal(p, 0) & np.equal(q, 0)
    return -g * p / (np.where(both, 1.0, q) if np.any(both) else q)


KL_DIVERGENCE = defprimitive(
    "kl_divergence", _kl, display="KL({p} ‖ {q})", category=NEURAL,
    grads={"p": (_kl_vjp_p, "ln({p}/{q}) + 1"),
           "q": (_kl_vjp_q, "−{p}/{q}")},
    domain={"p": (0.05, 1.0), "q": (0.05, 1.0)},
    doc="KL(p ‖ q) = Σ p·ln(p/q) for distributions p and q (∂/∂q = 0 where p = 0, "
        "also at q = 0)",
)
