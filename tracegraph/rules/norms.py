"""np.linalg.norm for every ``ord`` and ``axis`` (and np.linalg.vector_norm / matrix_norm).

The 2-norm of vectors and the Frobenius norm of matrices are the ``norm``
rule of :mod:`.reductions`; every other order is one of two rules here:

- ``vector_norm``: ``ord`` = inf, −inf (largest / smallest ``|x|``), 0 (the
  count of nonzeros: gradient zero), 1 (``Σ|x|``) or any other p
  (``(Σ|x|^p)^(1/p)``);
- ``matrix_norm``: ``ord`` = 1, −1 (largest / smallest column sum of
  ``|x|``), inf, −inf (row sums), 2, −2 (largest / smallest singular value),
  ``'nuc'`` (sum of the singular values).

Kinks (declared, so numeric checks avoid them): zero entries where ``|x|``
matters, ties between the entries (or column/row sums) competing for the
max/min (the gradient is shared equally between tied ones), repeated
singular values for ord ±2, zero singular values for −2 and ``'nuc'``.
At a zero vector the rules give gradient 0 for every ord (for ord ≥ 1 the centre of the
subgradients), as :mod:`.reductions` does for the 2-norm; a zero entry gets 0 for every
ord (its two slopes have opposite signs), also for 0 < p < 1 where they are ±∞.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import REGISTRY, normalize_axis
from ..core.var import plain_value
from ..extend import defprimitive, refuse_traced
from ..formula import Symbols
from .decompositions import SVD_U, SVD_VH, spectrum_gap
from .linalg import LINALG
from .reductions import reduced_axes, restore_axes
from .shape import available, normalize_axes

NORM = REGISTRY["norm"]


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def _ord_text(ord_) -> str:
    if ord_ == math.inf:
        return "∞"
    if ord_ == -math.inf:
        return "−∞"
    return str(ord_)


# --------------------------------------------------------------------------- vector norms


def _vector_norm(x, ord=1, axis=None, keepdims=False):
    if axis is None or isinstance(axis, tuple):  # from np.linalg.vector_norm (numpy 2)
        return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _extreme_share(x, out, axis, keepdims):
    """[|x| = out]/ties along the reduced axes (ties share the gradient)."""
    shape = _shape(x)
    magnitude = np.abs(plain_value(x))
    mask = np.equal(magnitude, restore_axes(plain_value(out), shape, axis, keepdims))
    ties = np.sum(mask, axis=reduced_axes(len(shape), axis), keepdims=True)
    return mask / np.maximum(ties, 1)


def _vector_norm_vjp(g, out, x, ord=1, axis=None, keepdims=False):
    shape = _shape(x)
    upstream = restore_axes(g, shape, axis, keepdims)
    sign = np.sign(plain_value(x))
    if ord == 0:
        return np.zeros(shape)
    if ord in (math.inf, -math.inf):
        return upstream * sign * _extreme_share(x, out, axis, keepdims)
    if ord == 1:
        return upstream * sign
    total = restore_axes(out, shape, axis, keepdims)
    zero_total = np.equal(plain_value(total), 0)
    zero = np.equal(plain_value(x), 0)
    if not np.any(zero_total) and (ord > 1 or not np.any(zero)):
        return upstream * sign * (np.abs(x) / total) ** (ord - 1)
    # A zero element is a symmetric kink (|t|^p, slopes of opposite signs): share 0. A
    # zero norm (the zero vector; for p < 0 any zero element) is flat or a kink for every
    # element: 0, where the formula gives 0/0.
    skip = zero | zero_total
    ratio = np.abs(np.where(skip, 1.0, x)) / np.where(zero_total, 1.0, total)
    return upstream * np.where(skip, 0.0, sign * ratio ** (ord - 1))


def _vector_norm_formula(s: Symbols) -> str:
    ord_ = s.params.get("ord", 1)
    if ord_ == 0:
        return "0"
    if ord_ in (math.inf, -math.inf):
        return f"sign({s['x']})·[|{s['x']}| = {s['out']}]"
    if ord_ == 1:
        return f"sign({s['x']})"
    return f"sign({s['x']})·(|{s['x']}|/{s['out']})^{ord_ - 1:g}"


def _vector_norm_kink(x, ord=1, axis=None, keepdims=False):
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return math.inf
    magnitude = np.abs(x)
    nearest_zero = float(np.min(magnitude))
    if ord in (math.inf, -math.inf):
        axes = reduced_axes(x.ndim, axis)
        moved = np.moveaxis(magnitude, axes, tuple(range(-len(axes), 0)))
        flat = np.sort(moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,)), axis=-1)
        if flat.shape[-1] < 2:
            return nearest_zero
        gaps = flat[..., -1] - flat[..., -2] if ord > 0 else flat[..., 1] - flat[..., 0]
        return min(nearest_zero, float(np.min(gaps)))
    if ord > 1:  # smooth except at a zero vector
        return float(np.min(_vector_norm(x, 2, axis)))
    return nearest_zero


def _vector_norm_sample(rng):
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    x = rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    ord_ = [math.inf, -math.inf, 0, 1, 3, 0.5, -1.5, 1.5][int(rng.integers(0, 8))]
    choice = int(rng.integers(0, 3))
    axis = None if choice == 0 else int(rng.integers(-ndim, ndim)) if choice == 1 \
        else tuple(sorted({int(a) for a in rng.integers(0, ndim, size=2)}))
    return (x,), {"ord": ord_, "axis": axis, "keepdims": bool(rng.integers(0, 2))}


VECTOR_NORM = defprimitive(
    "vector_norm", _vector_norm, category=LINALG,
    display=lambda s: f"‖{s['x']}‖{_ord_text(s.params.get('ord', 1))}",
    grads={"x": (_vector_norm_vjp, _vector_norm_formula)},
    kink=_vector_norm_kink, sample=_vector_norm_sample,
    doc="np.linalg.norm(x, ord) of vectors for ord ≠ 2: ∞, −∞, 0, 1, any p",
)


# --------------------------------------------------------------------------- matrix norms


def _matrix_norm(x, ord="nuc", axis=(-2, -1), keepdims=False):
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _moved(x, axis):
    return np.moveaxis(x, axis, (-2, -1))


def _batch_upstream(g, x, axis, keepdims):
    """ḡ shaped (..., 1, 1) in the layout with the matrix axes last."""
    shape = _shape(x)
    batch = tuple(n for i, n in enumerate(shape) if i not in axis)
    return np.reshape(g, batch + (1, 1))


def _sum_extreme_mask(magnitude, along, largest):
    """Which columns (along=-2) or rows (along=-1) have the largest/smallest sum of |x|,
    ties sharing, shaped to broadcast against the matrices."""
    sums = np.sum(magnitude, axis=along, keepdims=True)
    other = -1 if along == -2 else -2
    extreme = (np.max if largest else np.min)(sums, axis=other, keepdims=True)
    mask = np.equal(sums, extreme)
    return mask / np.sum(mask, axis=other, keepdims=True)


def _matrix_norm_vjp(g, out, x, ord="nuc", axis=(-2, -1), keepdims=False):
    moved = _moved(x, axis)
    upstream = _batch_upstream(g, x, axis, keepdims)
    if ord in (1, -1, math.inf, -math.inf):
        plain = plain_value(moved)
        along = -2 if ord in (1, -1) else -1
        mask = _sum_extreme_mask(np.abs(plain), along, largest=ord > 0)
        grad = upstream * np.sign(plain) * mask
    else:
        u = SVD_U(moved, full_matrices=False, hermitian=False)
        vh = SVD_VH(moved, full_matrices=False, hermitian=False)
        grad = upstream * ((u * np.expand_dims(_singular_shares(moved, ord), -2)) @ vh)
    return np.moveaxis(grad, (-2, -1), axis)


def _singular_shares(moved, ord):
    """The weight of each uᵢvᵢᵀ in the gradient: 1 for 'nuc'; for ±2 the largest
    (smallest) singular value, tied ones sharing; 0 for a zero singular value (a kink
    like |σ| at 0, whose subgradients are centred on 0; a zero matrix gets 0)."""
    s = np.linalg.svd(np.asarray(plain_value(moved), dtype=float), compute_uv=False)
    nonzero = np.not_equal(s, 0)
    if ord == "nuc":
        return nonzero * 1.0
    picked = np.equal(s, s[..., :1] if ord == 2 else s[..., -1:]) & nonzero
    return picked / np.maximum(np.sum(picked, axis=-1, keepdims=True), 1)


def _matrix_norm_formula(s: Symbols) -> str:
    ord_ = s.params.get("ord", "nuc")
    x = s["x"]
    if ord_ == "nuc":
        return "U Vᵀ (σ > 0)"
    if ord_ in (2, -2):
        return "u₁v₁ᵀ (largest σ)" if ord_ == 2 else "uₙvₙᵀ (smallest σ)"
    which = "column" if ord_ in (1, -1) else "row"
    return f"sign({x})·[the {'largest' if ord_ > 0 else 'smallest'} {which} sum]"


def _matrix_norm_kink(x, ord="nuc", axis=(-2, -1), keepdims=False):
    moved = np.moveaxis(np.asarray(x, dtype=float), axis, (-2, -1))
    if moved.size == 0:
        return math.inf
    if ord in (1, -1, math.inf, -math.inf):
        sums = np.sum(np.abs(moved), axis=-2 if ord in (1, -1) else -1)
        ordered = np.sort(sums, axis=-1)
        tie = math.inf
        if ordered.shape[-1] > 1:
            tie = float(np.min(ordered[..., -1] - ordered[..., -2] if ord > 0
                               else ordered[..., 1] - ordered[..., 0]))
        return min(tie, float(np.min(np.abs(moved))))
    s = np.linalg.svd(moved, compute_uv=False)
    if ord == "nuc":
        return float(np.min(s))
    if ord == 2:
        return float(np.min(s[..., 0] - s[..., 1])) if s.shape[-1] > 1 else math.inf
    smallest = float(np.min(s[..., -1]))
    return min(smallest, spectrum_gap(s[..., -2:]) if s.shape[-1] > 1 else math.inf)


def _matrix_norm_sample(rng):
    ndim = int(rng.integers(2, 4))
    shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
    x = rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    ord_ = ["nuc", 2, -2, 1, -1, math.inf, -math.inf][int(rng.integers(0, 7))]
    rows, cols = (int(a) for a in rng.choice(ndim, size=2, replace=False))
    return (x,), {"ord": ord_, "axis": (rows, cols), "keepdims": bool(rng.integers(0, 2))}


# --------------------------------------------------------------------------- routes


def _norm_axes(x, axis):
    ndim = np.ndim(plain_value(x))
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        return tuple(int(a) for a in axis)
    try:
        return (int(axis),)
    except (TypeError, ValueError) as error:
        raise TypeError("'axis' must be None, an integer or a tuple of integers") from error


def _norm_route(prim, x, ord=None, axis=None, keepdims=False):
    refuse_traced("np.linalg.norm", "ord", ord)  # compared with 1, 2, inf: would be a silent 0
    ndim = np.ndim(plain_value(x))
    keepdims = bool(keepdims)
    if axis is None and (ord is None or (ord in ("f", "fro") and ndim == 2)
                         or (ord == 2 and ndim == 1)):
        return NORM(x, axis=None, keepdims=keepdims)
    axes = _norm_axes(x, axis)
    if len(axes) == 1:
        (single,) = normalize_axes(axes, ndim)
        if ord is None or ord == 2:
            return NORM(x, axis=single, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return VECTOR_NORM(x, ord=ord, axis=single, keepdims=keepdims)
    if len(axes) == 2:
        pair = normalize_axes(axes, ndim)
        if ord in (None, "fro", "f"):
            return NORM(x, axis=pair, keepdims=keepdims)
        if ord not in ("nuc", 2, -2, 1, -1, math.inf, -math.inf):
            raise ValueError("Invalid norm order for matrices.")
        return prim(x, ord=ord, axis=pair, keepdims=keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _vector_norm_route(prim, x, /, *, axis=None, keepdims=False, ord=2):
    axis = normalize_axis(axis)
    if ord == 2:
        return NORM(x, axis=axis, keepdims=bool(keepdims))
    return VECTOR_NORM(x, ord=ord, axis=axis, keepdims=bool(keepdims))


def _matrix_norm_route(prim, x, /, *, keepdims=False, ord="fro"):
    return _norm_route(prim, x, ord=ord, axis=(-2, -1), keepdims=keepdims)


MATRIX_NORM = defprimitive(
    "matrix_norm", _matrix_norm, category=LINALG,
    display=lambda s: f"‖{s['x']}‖{_ord_text(s.params.get('ord', 'nuc'))}",
    numpy=available({np.linalg.norm: _norm_route,
                     getattr(np.linalg, "vector_norm", None): _vector_norm_route,
                     getattr(np.linalg, "matrix_norm", None): _matrix_norm_route}),
    grads={"x": (_matrix_norm_vjp, _matrix_norm_formula)},
    kink=_matrix_norm_kink, sample=_matrix_norm_sample,
    doc="np.linalg.norm(x, ord) of matrices for ord ≠ 'fro': 'nuc', ±2, ±1, ±∞",
)
