"""np.linalg matrix functions and decompositions: inv, solve, det, slogdet, pinv,
cholesky, qr, eigh, svd.

All work on stacks of matrices (``(..., n, n)``) as numpy does.

**Several outputs.**  ``np.linalg.eigh``, ``svd``, ``qr`` and ``slogdet``
return tuples; here each differentiable output is its own primitive (one
node per output: ``eigh(A).eigenvalues`` and ``eigh(A).eigenvectors``, both
with an edge from ``A``), so the graph reads like the code and every output
has its own rule and registry-wide checks.  The function returns numpy's own
named tuple of those nodes.  The decomposition itself is computed once per
call: the outputs share it through a small cache keyed by the input's
contents (:class:`SharedDecompositions`).  ``slogdet``'s sign is piecewise
constant: it is returned as a plain value (the trace keeps a guard on it).

**One triangle.**  ``eigh`` and ``cholesky`` read only one triangle of their
input (the lower one by default, ``UPLO='U'``/``upper=True`` the upper one);
the entries of the other triangle do not change the result, so their
gradient is zero and the gradient of an entry below the diagonal includes
its mirror image (``fold``).  For a symmetric input built from other traced
values (``A = B + B.T``) the chain rule then gives the usual symmetric
result.

**Degenerate spectra.**  Eigenvectors (and singular vectors) are not unique
where eigenvalues (singular values) repeat, and have no derivative there.
The rules drop the terms that couple equal eigenvalues: this is the
derivative of any function that depends only on the eigenspaces (projectors,
sums over a degenerate group), and the registry's ``kink`` marks such inputs
as non-differentiable points.  Singular vectors also need nonzero singular
values when the matrix is not square.

**Extra columns.**  ``svd(full_matrices=True)`` and ``qr(mode='complete')``
of a non-square matrix complete U (or Vh, or Q) with an arbitrary orthonormal
basis: gradients that reach those columns are refused (use
``full_matrices=False`` / the default ``mode='reduced'``).
"""

from __future__ import annotations

import threading

import numpy as np

from ..core.var import is_traced, plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive
from .linalg import LINALG, TRIL, TRIU, matrix_transpose
from .shape import available
from .statistics import products_of_others

_mT = matrix_transpose


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


class SharedDecompositions:
    """The last few decompositions, so the outputs of one call compute it once.

    ``np.linalg.svd(A)`` records three nodes (U, S, Vh); each one's value is
    the same factorisation, and their VJPs need the other factors again.  A
    lookup compares the input with the stored copy element by element (cheap
    next to the O(n³) factorisation); callers get their own copies, so
    nothing a user mutates can change a stored result.

    Example:
        >>> cache = SharedDecompositions(size=2)
        >>> calls = []
        >>> def count(x):
        ...     calls.append(1)
        ...     return (x * 2.0,)
        >>> a = np.ones(2)
        >>> _ = cache.get("double", a, count, 0); _ = cache.get("double", a.copy(), count, 0)
        >>> len(calls)
        1
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._entries: list[tuple[object, np.ndarray, tuple]] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every stored decomposition (benchmarks call this between runs)."""
        with self._lock:
            self._entries.clear()

    def get(self, key: object, x, compute, part: int):
        """Result ``part`` of ``compute(x)``, computed once for equal inputs (a copy)."""
        x = np.asarray(x)
        with self._lock:
            for stored_key, stored, result in self._entries:
                if stored_key == key and stored.shape == x.shape and stored.dtype == x.dtype \
                        and np.array_equal(stored, x):
                    return _own(result[part])
        result = tuple(compute(x))
        with self._lock:
            self._entries.insert(0, (key, x.copy(), result))
            del self._entries[self._size:]
        return _own(result[part])


def _own(value):
    """A copy of a stored array (numpy scalars are immutable and stay as they are)."""
    return value.copy() if isinstance(value, np.ndarray) else value


DECOMPOSITIONS = SharedDecompositions()

def _result_type(example):
    """numpy's named tuple for a decomposition's results (numpy 2), else ``tuple``."""
    kind = type(example)
    return kind if kind is not tuple else (lambda *parts: parts)


_EighResult = _result_type(np.linalg.eigh(np.eye(1)))
_SVDResult = _result_type(np.linalg.svd(np.eye(1)))
_QRResult = _result_type(np.linalg.qr(np.eye(1)))
_SlogdetResult = _result_type(np.linalg.slogdet(np.eye(1)))


def fold(grad, lower: bool = True):
    """The gradient with respect to the entries a one-triangle function reads:
    ``grad + gradᵀ`` below (above) the diagonal, ``grad`` on it, zero elsewhere.

    Example:
        >>> fold(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
        [[1.0, 0.0], [5.0, 4.0]]
    """
    both = grad + _mT(grad)
    n = _shape(grad)[-1]
    triangle = TRIL(both, k=0) if lower else TRIU(both, k=0)
    return triangle - grad * np.eye(n)


def _well_conditioned(rng, shape):
    n = shape[-1]
    return rng.normal(size=shape) + 2.0 * n * np.eye(n) * rng.choice([-1.0, 1.0])


def _square_sample(rng):
    n = int(rng.integers(1, 4))
    batch = tuple(int(b) for b in rng.integers(1, 3, size=int(rng.integers(0, 2))))
    return (_well_conditioned(rng, batch + (n, n)),), {}


def _symmetric(rng, shape):
    """A symmetric matrix, but for a little noise in the triangle the rules do not read
    (the checks then see that its entries get no gradient)."""
    a = rng.normal(size=shape)
    return a + _mT(a) + 0.1 * TRIU(rng.normal(size=shape), k=1) + \
        0.1 * TRIL(rng.normal(size=shape), k=-1)


def spectrum_gap(values) -> float:
    """The smallest distance between two eigenvalues (inf for 1 × 1 matrices).

    Example:
        >>> spectrum_gap(np.array([3.0, 1.0, 1.5]))
        0.5
    """
    values = np.sort(np.asarray(values), axis=-1)
    if values.shape[-1] < 2:
        return np.inf
    return float(np.min(np.diff(values, axis=-1)))


def inverse_gaps(gaps, values):
    """1/gaps, and 0 where a gap is 0 up to rounding: |gap| ≤ 16·n·eps·max|values| per
    matrix (numpy's repeated eigenvalues differ by a few eps, and 1/eps would swamp
    the derivative the dropped coupling terms leave exact).

    Example:
        >>> inverse_gaps(np.array([[0.0, 1e-17], [2.0, 0.0]]), np.array([1.0, 1.0])).tolist()
        [[0.0, 0.0], [0.5, 0.0]]
    """
    equal = _equal_gaps(gaps, values)
    return np.where(equal, 0.0, 1.0 / np.where(equal, 1.0, gaps))


def _equal_gaps(gaps, values):
    plain = np.asarray(plain_value(values))
    eps = np.finfo(plain.dtype if plain.dtype.kind == "f" else np.float64).eps
    scale = np.max(np.abs(plain), axis=-1, initial=0.0)[..., None, None]
    return np.abs(plain_value(gaps)) <= 16 * plain.shape[-1] * eps * scale


def refuse_twice_at_repeats(x, values) -> None:
    """Refuse to record these rules' VJPs for a second derivative where ``values``
    repeat: the first derivative there holds for functions of the eigenspaces only
    (each eigenvalue on its own is not differentiable where two cross), so its own
    derivative would be silently wrong (sum(eigvalsh(A)**2) at A = I lost its coupling).

    Example:
        >>> refuse_twice_at_repeats(np.eye(2), np.ones(2))   # plain values: first order
    """
    if not is_traced(x):
        return
    plain = np.asarray(plain_value(values))
    gaps = np.expand_dims(plain, -2) - np.expand_dims(plain, -1)
    if np.any(_equal_gaps(gaps, plain) & ~np.eye(plain.shape[-1], dtype=bool)):
        raise UnsupportedOperationError(
            "second derivatives of np.linalg.eigh and np.linalg.svd at repeated eigenvalues "
            "or singular values", reason="eigenvalues are not differentiable one by one "
            "where they repeat, which only a first derivative of a function of the "
            "eigenspaces can ignore",
            hint="move the point off the repeat (add a small distinct diagonal, e.g. "
            "A + 1e-6 * np.diag(np.arange(n))), or differentiate once")


# --------------------------------------------------------------------------- inverse, solve


INV = defprimitive(
    "inv", lambda x: np.linalg.inv(x), category=LINALG, display="{x:p}⁻¹",
    numpy=(np.linalg.inv,),
    grads={"x": (lambda g, out, x: -(_mT(out) @ g @ _mT(out)), "−{out:p}ᵀ @ ḡ @ {out:p}ᵀ")},
    sample=_square_sample,
    doc="np.linalg.inv(x): the matrix inverse",
)


_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _solve_as_vector(a, b) -> bool:
    """Whether np.linalg.solve treats b as a vector: numpy 2 when it is 1-D, numpy 1
    when it has one dimension less than a."""
    b_ndim = np.ndim(plain_value(b))
    return b_ndim == 1 if _NUMPY_2 else b_ndim == np.ndim(plain_value(a)) - 1


def _solve_vjp_b(g, out, a, b):
    if _solve_as_vector(a, b):
        return SOLVE(_mT(a), np.expand_dims(g, -1))[..., 0]
    return SOLVE(_mT(a), g)


def _solve_vjp_a(g, out, a, b):
    grad_b = _solve_vjp_b(g, out, a, b)
    if _solve_as_vector(a, b):
        return -(np.expand_dims(grad_b, -1) * np.expand_dims(out, -2))
    return -(grad_b @ _mT(out))


def _solve_sample(rng):
    (a,), _ = _square_sample(rng)
    n = a.shape[-1]
    kind = int(rng.integers(0, 3))
    b_shape = [(n,), (n, int(rng.integers(1, 3))), a.shape[:-2] + (n, 1)][kind]
    return (a, rng.normal(size=b_shape)), {}


SOLVE = defprimitive(
    "solve", lambda a, b: np.linalg.solve(a, b), category=LINALG, display="solve({a}, {b})",
    numpy=(np.linalg.solve,),
    grads={"a": (_solve_vjp_a, "−solve({a:p}ᵀ, ḡ) @ {out:p}ᵀ"),
           "b": (_solve_vjp_b, "solve({a:p}ᵀ, ḡ)")},
    sample=_solve_sample,
    doc="np.linalg.solve(a, b): x with a @ x = b (b a vector when 1-D, as in numpy 2)",
)


# --------------------------------------------------------------------------- determinants


def adjugate_transposed(x):
    """adj(x)ᵀ = ∂det(x)/∂x, also where x is singular (there x⁻¹ does not exist).

    With x = U S Vᵀ (an SVD of x's value, held constant) and B = Uᵀ x V (= S at x, but
    traced), adj(x)ᵀ = det(U)·det(V)·U cof(B) Vᵀ, where cof(B)ᵢᵢ = ∏_{k≠i} Bₖₖ and
    cof(B)ᵢⱼ = −Bⱼᵢ ∏_{k∉{i,j}} Bₖₖ are B's cofactors to first order around the diagonal
    S: exact at x, and so is their derivative (the second derivative of det).

    Example:
        >>> adjugate_transposed(np.array([[1.0, 2.0], [2.0, 4.0]])).round(12).tolist()
        [[4.0, -2.0], [-2.0, 1.0]]
    """
    value = np.asarray(plain_value(x), dtype=float)
    u, _, vh = np.linalg.svd(value)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    b = _mT(u) @ x @ _mT(vh)
    eye = np.eye(value.shape[-1], dtype=bool)
    diagonal = np.diagonal(b, axis1=-2, axis2=-1)
    others = products_of_others(np.where(eye, 1.0, np.expand_dims(diagonal, -2)))
    cofactors = np.where(eye, others, -_mT(b) * others)
    return np.expand_dims(sign, (-1, -2)) * (u @ cofactors @ vh)


def _well_conditioned_det(x, out) -> bool:
    """|det x| against Hadamard's bound (the product of the row lengths): far from 0,
    det(x)·x⁻ᵀ is accurate to every order; near 0 its second derivative loses ~eps/ratio."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(plain_value(out)) / np.prod(
            np.linalg.norm(np.asarray(plain_value(x), dtype=float), axis=-1), axis=-1)
    return bool(np.all(ratio >= 1e-8))


def _det_vjp(g, out, x):
    if _well_conditioned_det(x, out):
        return np.expand_dims(g * out, (-1, -2)) * _mT(INV(x))
    # singular (no x⁻¹) or nearly: the adjugate from an SVD, exact to second order
    return np.expand_dims(g, (-1, -2)) * adjugate_transposed(x)


def _det_sample(rng):
    (x,), params = _square_sample(rng)
    n = x.shape[-1]
    kind = int(rng.integers(0, 4))
    if kind == 1 and n > 1:  # singular: the last row a combination of the others
        x[..., -1, :] = np.einsum("...i,...ij->...j", rng.normal(size=x.shape[:-2] + (n - 1,)),
                                  x[..., :-1, :])
    elif kind == 2:  # rank 0, or n − 2 for larger matrices
        x[..., -min(n, 2):, :] = 0.0
    return (x,), params


DET = defprimitive(
    "det", lambda x: np.linalg.det(x), category=LINALG, display="det({x})",
    numpy=(np.linalg.det,),
    grads={"x": (_det_vjp, "adj({x})ᵀ")},
    sample=_det_sample,
    doc="np.linalg.det(x): the determinant (gradient the transposed adjugate: det(x)·x⁻ᵀ, "
        "or through an SVD where x is singular or nearly)",
)


def _slogdet(x, part=1):
    return DECOMPOSITIONS.get(("slogdet",), x, np.linalg.slogdet, part)


def _slogdet_sign(a):
    return _slogdet(a, 0)


def _slogdet_route(prim, a):
    logabsdet = prim(a)
    sign = _slogdet_sign(plain_value(a))  # the same factorisation as logabsdet's
    tape = getattr(a, "tape", None)
    if tape is not None:  # the sign is piecewise constant: a replay checks it still holds
        tape.guard(_slogdet_sign, (a,), {}, sign)
    return _SlogdetResult(sign, logabsdet)


def _slogdet_vjp(g, out, x):
    if np.all(np.isfinite(plain_value(out))):
        return np.expand_dims(g, (-1, -2)) * _mT(INV(x))
    # singular: log|det x| = −inf, and its gradient adj(x)ᵀ/det(x) is infinite (NaN where
    # the adjugate is 0): reported as a non-finite gradient, not an error
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.expand_dims(g, (-1, -2)) * (adjugate_transposed(x)
                                              / np.expand_dims(DET(x), (-1, -2)))


defprimitive(
    "slogdet", lambda x: _slogdet(x), category=LINALG, display="log|det({x})|",
    numpy={np.linalg.slogdet: _slogdet_route},
    grads={"x": (_slogdet_vjp, "{x:p}⁻ᵀ")},
    sample=_square_sample,
    doc="np.linalg.slogdet(x).logabsdet: log |det x| (the sign is returned plain; at a "
        "singular x the gradient is not finite)",
)


# --------------------------------------------------------------------------- pseudo-inverse


def _pinv(x, rcond=None, hermitian=False, **rtol):
    return np.linalg.pinv(x, rcond=rcond, hermitian=hermitian, **rtol)


def _pinv_vjp(g, out, x, rcond=None, hermitian=False, **rtol):
    # d(A⁺) = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺ (constant rank).
    # hermitian=True reads the lower triangle (through eigh): A is the symmetric matrix
    # made from it, and the gradient is folded onto that triangle.
    if hermitian:
        x = TRIL(x, k=0) + _mT(TRIL(x, k=-1))
    p, pt, gt = out, _mT(out), _mT(g)
    left = gt @ (p @ pt)
    right = (pt @ p) @ gt
    grad = -(pt @ g @ pt) + (left - x @ (p @ left)) + (right - (right @ p) @ x)
    return fold(grad) if hermitian else grad


def _pinv_cutoff(x, rcond=None, **rtol):
    x = np.asarray(x)
    if "rtol" in rtol:
        rcond = rtol["rtol"] if rtol["rtol"] is not None else max(x.shape[-2:]) * np.finfo(
            x.dtype).eps
    return 1e-15 if rcond is None else rcond


def _pinv_kink(x, rcond=None, hermitian=False, **rtol):
    """Distance of a singular value from the cutoff below which pinv drops it (the
    rank changes there)."""
    s = np.linalg.svd(np.asarray(x), compute_uv=False, hermitian=hermitian)
    if s.size == 0:
        return np.inf
    cutoff = _pinv_cutoff(x, rcond, **rtol) * np.max(s, axis=-1, keepdims=True)
    return float(np.min(np.abs(s - cutoff)))


def _pinv_route(prim, a, rcond=None, hermitian=False, **rtol):
    return prim(a, rcond=rcond, hermitian=bool(hermitian), **rtol)


def _pinv_sample(rng):
    m, n = (int(v) for v in rng.integers(1, 4, size=2))
    hermitian = bool(rng.integers(0, 4) == 0)
    if hermitian:
        return (_symmetric(rng, (n, n)) + 3.0 * n * np.eye(n),), {"hermitian": True}
    return (rng.normal(size=(m, n)),), {}


defprimitive(
    "pinv", _pinv, category=LINALG, display="{x:p}⁺",
    numpy={np.linalg.pinv: _pinv_route},
    grads={"x": (_pinv_vjp, ("−{out:p}ᵀ ḡ {out:p}ᵀ + (I − {x}{out})ḡᵀ{out}{out}ᵀ + "
                             "{out}ᵀ{out}ḡᵀ(I − {out}{x})"))},
    kink=_pinv_kink, sample=_pinv_sample,
    doc="np.linalg.pinv(x): the Moore-Penrose pseudo-inverse (differentiable where the "
        "rank does not change)",
)


# --------------------------------------------------------------------------- cholesky


def _cholesky_vjp(g, out, x, upper=False):
    # A = L Lᵀ: Ā = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, Φ = lower triangle with half the diagonal.
    lower = _mT(out) if upper else out
    g_lower = _mT(g) if upper else g
    n = _shape(out)[-1]
    product = _mT(lower) @ g_lower
    phi = TRIL(product, k=0) - 0.5 * product * np.eye(n)
    inverse = INV(lower)
    return fold(_mT(inverse) @ phi @ inverse, lower=not upper)


def _cholesky_route(prim, a, /, *, upper=False):
    return prim(a, upper=bool(upper))


def _cholesky_sample(rng):
    n = int(rng.integers(1, 4))
    batch = tuple(int(b) for b in rng.integers(1, 3, size=int(rng.integers(0, 2))))
    a = rng.normal(size=batch + (n, n))
    spd = a @ _mT(a) + n * np.eye(n)
    return (spd,), {"upper": bool(rng.integers(0, 2))}


defprimitive(
    "cholesky", lambda x, upper=False: np.linalg.cholesky(x, upper=True) if upper
    else np.linalg.cholesky(x), category=LINALG,
    display="cholesky({x})", numpy={np.linalg.cholesky: _cholesky_route},
    grads={"x": (_cholesky_vjp, "L⁻ᵀ Φ(Lᵀ ḡ) L⁻¹ on the triangle read")},
    sample=_cholesky_sample,
    doc="np.linalg.cholesky(x): L with x = L Lᵀ (reads the lower triangle; upper=True: "
        "the upper one)",
)


# --------------------------------------------------------------------------- eigh


def _eigh(x, UPLO, part):
    return DECOMPOSITIONS.get(("eigh", UPLO), x, lambda a: np.linalg.eigh(a, UPLO=UPLO), part)


def _eigh_values(x, UPLO="L", with_vectors=True):
    if with_vectors:
        return _eigh(x, UPLO, 0)
    return np.linalg.eigvalsh(x, UPLO=UPLO)


def _eigh_values_vjp(g, out, x, UPLO="L", with_vectors=True):
    refuse_twice_at_repeats(x, out)
    vectors = EIGH_VECTORS(x, UPLO=UPLO)
    return fold((vectors * np.expand_dims(g, -2)) @ _mT(vectors), lower=UPLO == "L")


def _eigh_vectors_vjp(g, out, x, UPLO="L"):
    values = EIGH_VALUES(x, UPLO=UPLO, with_vectors=True)
    refuse_twice_at_repeats(x, values)
    gaps = np.expand_dims(values, -2) - np.expand_dims(values, -1)  # w_j − w_i
    inner = inverse_gaps(gaps, values) * (_mT(out) @ g)
    return fold(out @ inner @ _mT(out), lower=UPLO == "L")


def _eigh_kink(x, UPLO="L", with_vectors=True):
    return spectrum_gap(np.linalg.eigvalsh(np.asarray(x), UPLO=UPLO))


def _uplo(UPLO):
    uplo = str(UPLO).upper()
    if uplo not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return uplo


def _eigh_route(prim, a, UPLO="L"):
    uplo = _uplo(UPLO)
    return _EighResult(EIGH_VALUES(a, UPLO=uplo, with_vectors=True), prim(a, UPLO=uplo))


def _eigvalsh_route(prim, a, UPLO="L"):
    return prim(a, UPLO=_uplo(UPLO), with_vectors=False)


def _eigh_sample(rng):
    n = int(rng.integers(1, 4))
    batch = tuple(int(b) for b in rng.integers(1, 3, size=int(rng.integers(0, 2))))
    return (_symmetric(rng, batch + (n, n)),), {"UPLO": "L" if rng.integers(0, 2) else "U"}


def _eigh_values_sample(rng):
    (x,), params = _eigh_sample(rng)
    return (x,), {**params, "with_vectors": bool(rng.integers(0, 2))}


EIGH_VALUES = defprimitive(
    "eigh_values", _eigh_values, category=LINALG,
    display=lambda s: f"eigh({s['x']}).eigenvalues" if s.params.get("with_vectors", True)
    else f"eigvalsh({s['x']})",
    numpy={np.linalg.eigvalsh: _eigvalsh_route},
    grads={"x": (_eigh_values_vjp, "V diag(ḡ) Vᵀ on the triangle read")},
    kink=_eigh_kink, sample=_eigh_values_sample,
    doc="np.linalg.eigh(x).eigenvalues / eigvalsh: ascending eigenvalues of the symmetric "
        "matrix x reads from one triangle",
)
EIGH_VECTORS = defprimitive(
    "eigh_vectors", lambda x, UPLO="L": _eigh(x, UPLO, 1), category=LINALG,
    display="eigh({x}).eigenvectors",
    numpy={np.linalg.eigh: _eigh_route},
    grads={"x": (_eigh_vectors_vjp, "V (F ∘ Vᵀḡ) Vᵀ, F = 1/(wⱼ − wᵢ), on the triangle read")},
    kink=lambda x, UPLO="L": _eigh_kink(x, UPLO), sample=_eigh_sample,
    doc="np.linalg.eigh(x).eigenvectors: orthonormal eigenvectors (columns) of the symmetric "
        "x; repeated eigenvalues drop their coupling terms",
)


# --------------------------------------------------------------------------- svd


def _svd(x, full_matrices, hermitian, part):
    return DECOMPOSITIONS.get(("svd", full_matrices, hermitian), x,
                              lambda a: np.linalg.svd(a, full_matrices=full_matrices,
                                                      hermitian=hermitian), part)


def _svd_s(x, full_matrices=True, compute_uv=True, hermitian=False):
    if compute_uv:
        return _svd(x, full_matrices, hermitian, 1)
    return np.linalg.svd(x, compute_uv=False, hermitian=hermitian)


def _thin(u, vh, k):
    """U and V with only their first k columns (full_matrices=True adds more)."""
    return u[..., :, :k], _mT(vh[..., :k, :])


def _refuse_extra_columns(g, k, axis, what):
    extra = plain_value(g)[..., :, k:] if axis == -1 else plain_value(g)[..., k:, :]
    if np.size(extra) and np.any(extra != 0):
        raise UnsupportedOperationError(
            f"the gradient of the last columns of {what} from np.linalg.svd(full_matrices=True)",
            reason="for a non-square matrix they are an arbitrary orthonormal completion, not "
            "a differentiable function of it",
            hint="pass full_matrices=False, or use only the first min(m, n) columns")


def _svd_parts(x, full_matrices, hermitian):
    """U, s, V (thin) as traced functions of x, for the VJPs."""
    k = min(_shape(x)[-2:])
    u = SVD_U(x, full_matrices=full_matrices, hermitian=hermitian)
    s = SVD_S(x, full_matrices=full_matrices, compute_uv=True, hermitian=hermitian)
    refuse_twice_at_repeats(x, s)
    vh = SVD_VH(x, full_matrices=full_matrices, hermitian=hermitian)
    u, v = _thin(u, vh, k)
    return u, s, v, k


def _couplings(s):
    """sⱼ/(sⱼ² − sᵢ²) and sᵢ/(sⱼ² − sᵢ²) (the U and the V terms), each split as
    ½(1/(sⱼ − sᵢ) ± 1/(sⱼ + sᵢ)): only 1/(sⱼ − sᵢ) is dropped for equal values, so
    U @ Vh (smooth there) keeps its derivative."""
    row, column = np.expand_dims(s, -2), np.expand_dims(s, -1)
    off = 1.0 - np.eye(_shape(s)[-1])
    minus = inverse_gaps(row - column, s) * off
    plus = inverse_gaps(row + column, s) * off
    return 0.5 * (minus + plus), 0.5 * (minus - plus)


def _svd_u_vjp(g, out, x, full_matrices=True, hermitian=False):
    u, s, v, k = _svd_parts(x, full_matrices, hermitian)
    _refuse_extra_columns(g, k, -1, "U")
    g = g[..., :, :k]
    grad = u @ (_couplings(s)[0] * (_mT(u) @ g - _mT(g) @ u)) @ _mT(v)
    if _shape(x)[-2] > k:  # tall: the part of ḡ outside U's column space
        beyond = g - u @ (_mT(u) @ g)
        grad = grad + (beyond / np.expand_dims(s, -2)) @ _mT(v)
    return fold(grad) if hermitian else grad


def _svd_s_vjp(g, out, x, full_matrices=True, compute_uv=True, hermitian=False):
    u, _, v, _ = _svd_parts(x, full_matrices, hermitian)
    grad = (u * np.expand_dims(g, -2)) @ _mT(v)
    return fold(grad) if hermitian else grad


def _svd_vh_vjp(g, out, x, full_matrices=True, hermitian=False):
    u, s, v, k = _svd_parts(x, full_matrices, hermitian)
    _refuse_extra_columns(g, k, -2, "Vh")
    g_v = _mT(g[..., :k, :])
    grad = u @ (_couplings(s)[1] * (_mT(v) @ g_v - _mT(g_v) @ v)) @ _mT(v)
    if _shape(x)[-1] > k:  # wide: the part of ḡ outside V's column space
        beyond = g_v - v @ (_mT(v) @ g_v)
        grad = grad + (u / np.expand_dims(s, -2)) @ _mT(beyond)
    return fold(grad) if hermitian else grad


def _svd_kink(x, full_matrices=True, compute_uv=True, hermitian=False):
    """Repeated or zero singular values (where they or the vectors have no derivative)."""
    s = np.linalg.svd(np.asarray(x), compute_uv=False, hermitian=hermitian)
    if s.size == 0:
        return np.inf
    return min(spectrum_gap(s), float(np.min(s)))


def _svd_route(prim, a, full_matrices=True, compute_uv=True, hermitian=False):
    options = {"full_matrices": bool(full_matrices), "hermitian": bool(hermitian)}
    if not compute_uv:
        return SVD_S(a, compute_uv=False, **options)
    return _SVDResult(SVD_U(a, **options), SVD_S(a, compute_uv=True, **options),
                      SVD_VH(a, **options))


def _svdvals_route(prim, x, /):
    return prim(x, compute_uv=False)


def _svd_sample(rng):
    m, n = (int(v) for v in rng.integers(1, 4, size=2))
    batch = tuple(int(b) for b in rng.integers(1, 3, size=int(rng.integers(0, 2))))
    hermitian = bool(rng.integers(0, 5) == 0)
    if hermitian:
        return (_symmetric(rng, batch + (n, n)),), {"full_matrices": False, "hermitian": True}
    full = bool(m == n and rng.integers(0, 2))
    return (rng.normal(size=batch + (m, n)),), {"full_matrices": full}


def _svd_s_sample(rng):
    (x,), params = _svd_sample(rng)
    return (x,), {**params, "compute_uv": bool(rng.integers(0, 2))}


SVD_U = defprimitive(
    "svd_u", lambda x, full_matrices=True, hermitian=False: _svd(x, full_matrices, hermitian, 0),
    category=LINALG, display="svd({x}).U", numpy={np.linalg.svd: _svd_route},
    grads={"x": (_svd_u_vjp, "U(F ∘ (Uᵀḡ − ḡᵀU))SVᵀ + (I − UUᵀ)ḡS⁻¹Vᵀ")},
    kink=_svd_kink, sample=_svd_sample,
    doc="np.linalg.svd(x).U: left singular vectors (columns)",
)
SVD_S = defprimitive(
    "svd_s", _svd_s, category=LINALG,
    display=lambda s: f"svd({s['x']}).S" if s.params.get("compute_uv", True)
    else f"svdvals({s['x']})",
    numpy=available({getattr(np.linalg, "svdvals", None): _svdvals_route}),
    grads={"x": (_svd_s_vjp, "U diag(ḡ) Vᵀ")},
    kink=_svd_kink, sample=_svd_s_sample,
    doc="np.linalg.svd(x).S / svdvals: the singular values, descending",
)
SVD_VH = defprimitive(
    "svd_vh", lambda x, full_matrices=True, hermitian=False: _svd(x, full_matrices, hermitian, 2),
    category=LINALG, display="svd({x}).Vh",
    grads={"x": (_svd_vh_vjp, "US(F ∘ (Vᵀḡᵀ − ḡV))Vᵀ + US⁻¹ḡ(I − VVᵀ)")},
    kink=_svd_kink, sample=_svd_sample,
    doc="np.linalg.svd(x).Vh: right singular vectors (rows)",
)


# --------------------------------------------------------------------------- qr


def _qr(x, mode, part):
    return DECOMPOSITIONS.get(("qr", mode), x, lambda a: np.linalg.qr(a, mode=mode), part)


def _copy_lower_to_upper(m):
    return TRIL(m, k=0) + _mT(TRIL(m, k=-1))


def _right_solve_transposed(y, r):
    """y @ r⁻ᵀ."""
    return _mT(SOLVE(r, _mT(y)))


def _qr_square_vjp(q, r, g_q, g_r):
    """The VJP of A = QR for m ≥ n (reduced): (Q̄ + Q copyltu(M)) R⁻ᵀ, M = RR̄ᵀ − Q̄ᵀQ.
    ``g_q`` or ``g_r`` may be None (that output receives no gradient)."""
    m = 0.0
    if g_r is not None:
        m = r @ _mT(g_r)
    if g_q is not None:
        m = m - _mT(g_q) @ q
    left = q @ _copy_lower_to_upper(m)
    if g_q is not None:
        left = g_q + left
    return _right_solve_transposed(left, r)


def _qr_vjp(x, g_q, g_r, mode):
    rows, cols = _shape(x)[-2:]
    q = QR_Q(x, mode=mode)
    r = QR_R(x, mode=mode)
    k = min(rows, cols)
    if g_q is not None and _shape(q)[-1] > k:
        extra = plain_value(g_q)[..., :, k:]
        if np.any(extra != 0):
            raise UnsupportedOperationError(
                "the gradient of the last columns of Q from np.linalg.qr(mode='complete')",
                reason="for a tall matrix they are an arbitrary orthonormal completion",
                hint="use the default mode='reduced'")
    q = q[..., :, :k]
    if g_q is not None:
        g_q = g_q[..., :, :k]
    if rows >= cols:
        return _qr_square_vjp(q, r[..., :k, :], g_q, None if g_r is None else g_r[..., :k, :])
    # Wide: A = [X | Y] with X = Q R₁ square and R₂ = Qᵀ Y.
    y = x[..., :, k:]
    r1 = r[..., :, :k]
    g_q_total = g_q
    if g_r is not None:
        through_r2 = y @ _mT(g_r[..., :, k:])
        g_q_total = through_r2 if g_q is None else g_q + through_r2
    grad_x = _qr_square_vjp(q, r1, g_q_total, None if g_r is None else g_r[..., :, :k])
    grad_y = q @ g_r[..., :, k:] if g_r is not None else 0.0 * y
    return np.concatenate([grad_x, grad_y], axis=-1)


def _qr_kink(x, mode="reduced"):
    r = np.linalg.qr(np.asarray(x), mode="r")
    diagonal = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    return float(np.min(diagonal)) if diagonal.size else np.inf


def _qr_route(prim, a, mode="reduced"):
    if mode == "r":
        return QR_R(a, mode="reduced")
    if mode not in ("reduced", "complete"):
        raise UnsupportedOperationError(f"np.linalg.qr(mode={mode!r})",
                                        reason="only the factors Q and R are traced",
                                        hint="use mode='reduced' (the default) or 'r'")
    return _QRResult(prim(a, mode=mode), QR_R(a, mode=mode))


def _qr_sample(rng):
    m, n = (int(v) for v in rng.integers(1, 5, size=2))
    batch = tuple(int(b) for b in rng.integers(1, 3, size=int(rng.integers(0, 2))))
    mode = "complete" if m <= n and rng.integers(0, 2) else "reduced"
    return (rng.normal(size=batch + (m, n)),), {"mode": mode}


QR_Q = defprimitive(
    "qr_q", lambda x, mode="reduced": _qr(x, mode, 0), category=LINALG, display="qr({x}).Q",
    numpy={np.linalg.qr: _qr_route},
    grads={"x": (lambda g, out, x, mode="reduced": _qr_vjp(x, g, None, mode),
                 "(ḡ − Q copyltu(ḡᵀQ)) R⁻ᵀ")},
    kink=_qr_kink, sample=_qr_sample,
    doc="np.linalg.qr(x).Q: the orthonormal factor",
)
QR_R = defprimitive(
    "qr_r", lambda x, mode="reduced": _qr(x, mode, 1), category=LINALG, display="qr({x}).R",
    grads={"x": (lambda g, out, x, mode="reduced": _qr_vjp(x, None, g, mode),
                 "Q copyltu(R ḡᵀ) R⁻ᵀ")},
    kink=_qr_kink, sample=_qr_sample,
    doc="np.linalg.qr(x).R: the upper-triangular factor (mode='r' gives only R)",
)
