"""scipy.linalg: solve_triangular, solve_sylvester, sqrtm (needs scipy; never imported by
``import tracegraph``).

scipy.linalg's functions convert their arguments with ``np.asarray``, which
tracegraph refuses (the trace would silently lose them), so numpy's dispatch
never reaches a rule.  This module declares the rules and the functions to
call instead, with scipy's names and signatures::

    from tracegraph.rules.scipy_linalg import solve_triangular, sqrtm
    x = solve_triangular(L, b, lower=True)     # same call as scipy.linalg's

On plain values they are scipy's own functions; on traced values each
records one node.  Importing the module declares the rules (it imports
scipy.linalg); the registry-wide tests import it when scipy is installed.

- ``solve_triangular`` reads only the triangle ``lower`` names (and not the
  diagonal with ``unit_diagonal=True``): the other entries get gradient 0.
- ``sqrtm``'s VJP solves the Sylvester equation Sᵀ·Ā + Ā·Sᵀ = ḡ (S the
  square root); matrices whose square root is complex are refused.

Example:
    >>> import numpy as np, tracegraph as tg
    >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> t = tg.trace(lambda b: np.sum(solve_triangular(L, b, lower=True)), b=np.ones(2))
    >>> t.value, t.grads["b"].tolist()
    (1.0, [0.0, 1.0])
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..core import apply, is_traced
from ..core.var import plain_value
from ..errors import UnsupportedOperationError
from ..extend import defprimitive
from .linalg import LINALG, TRIL, TRIU, matrix_transpose

_mT = matrix_transpose


def _shape(a) -> tuple[int, ...]:
    return np.shape(plain_value(a))


def _transposed(trans) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, "T", 2, "C"):  # real matrices: the conjugate transpose is the transpose
        return True
    raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")


# --------------------------------------------------------------------------- solve_triangular


def _solve_triangular(a, b, trans=False, lower=False, unit_diagonal=False):
    return scipy.linalg.solve_triangular(a, b, trans=int(trans), lower=lower,
                                         unit_diagonal=unit_diagonal)


def _as_vector(b) -> bool:
    return np.ndim(plain_value(b)) == 1


def _solve_triangular_vjp_b(g, out, a, b, trans=False, lower=False, unit_diagonal=False):
    options = {"trans": not trans, "lower": lower, "unit_diagonal": unit_diagonal}
    if _as_vector(b) and np.ndim(plain_value(g)) > 1:
        return SOLVE_TRIANGULAR(a, np.expand_dims(g, -1), **options)[..., 0]
    return SOLVE_TRIANGULAR(a, g, **options)


def _solve_triangular_vjp_a(g, out, a, b, trans=False, lower=False, unit_diagonal=False):
    grad_b = _solve_triangular_vjp_b(g, out, a, b, trans, lower, unit_diagonal)
    if _as_vector(b):
        grad_b, out = np.expand_dims(grad_b, -1), np.expand_dims(out, -1)
    # x = op(a)⁻¹ b: the gradient of op(a) is −b̄ xᵀ; only one triangle of a is read.
    grad = -(out @ _mT(grad_b)) if trans else -(grad_b @ _mT(out))
    k = -1 if unit_diagonal else 0
    return TRIL(grad, k=k) if lower else TRIU(grad, k=-k)


def _solve_triangular_sample(rng):
    n = int(rng.integers(1, 4))
    lower = bool(rng.integers(0, 2))
    a = rng.normal(size=(n, n)) + 3.0 * np.eye(n)
    b = rng.normal(size=(n,) if rng.integers(0, 2) else (n, int(rng.integers(1, 3))))
    return (a, b), {"trans": bool(rng.integers(0, 2)), "lower": lower,
                    "unit_diagonal": bool(rng.integers(0, 3) == 0)}


SOLVE_TRIANGULAR = defprimitive(
    "solve_triangular", _solve_triangular, category=LINALG,
    display=lambda s: f"solve_triangular({s['a']}, {s['b']})",
    grads={"a": (_solve_triangular_vjp_a, "−b̄ xᵀ on the triangle read"),
           "b": (_solve_triangular_vjp_b, "solve_triangular({a:p}ᵀ, ḡ)")},
    sample=_solve_triangular_sample,
    doc="scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal)",
)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """scipy.linalg.solve_triangular, traced: x with a·x = b (aᵀ·x = b for trans=1) for a
    triangular a.

    Example:
        >>> solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]),
        ...                  lower=True).tolist()
        [1.0, 2.0]
    """
    if not (is_traced(a) or is_traced(b)):
        return scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower,
                                             unit_diagonal=unit_diagonal,
                                             overwrite_b=overwrite_b,
                                             check_finite=check_finite)
    return apply(SOLVE_TRIANGULAR, a, b, trans=_transposed(trans), lower=bool(lower),
                 unit_diagonal=bool(unit_diagonal))


# --------------------------------------------------------------------------- solve_sylvester


def _sylvester_adjoint(g, a, b):
    """Q̄ for X = sylvester(a, b, q): the solution of aᵀ·Q̄ + Q̄·bᵀ = ḡ."""
    return SOLVE_SYLVESTER(_mT(a), _mT(b), g)


def _square_sample(rng, count):
    n = int(rng.integers(1, 4))
    matrices = [rng.normal(size=(n, n)) + 3.0 * np.eye(n) for _ in range(count - 1)]
    return tuple(matrices) + (rng.normal(size=(n, n)),), {}


SOLVE_SYLVESTER = defprimitive(
    "solve_sylvester", lambda a, b, q: scipy.linalg.solve_sylvester(a, b, q), category=LINALG,
    display="sylvester({a}, {b}, {q})",
    grads={"a": (lambda g, out, a, b, q: -(_sylvester_adjoint(g, a, b) @ _mT(out)),
                 "−Q̄ Xᵀ"),
           "b": (lambda g, out, a, b, q: -(_mT(out) @ _sylvester_adjoint(g, a, b)),
                 "−Xᵀ Q̄"),
           "q": (lambda g, out, a, b, q: _sylvester_adjoint(g, a, b),
                 "Q̄: aᵀQ̄ + Q̄bᵀ = ḡ")},
    sample=lambda rng: _square_sample(rng, 3),
    doc="scipy.linalg.solve_sylvester(a, b, q): X with a·X + X·b = q",
)


def solve_sylvester(a, b, q):
    """scipy.linalg.solve_sylvester, traced: X with a·X + X·b = q.

    Example:
        >>> solve_sylvester(np.eye(2), np.eye(2), np.eye(2)).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    if not any(is_traced(v) for v in (a, b, q)):
        return scipy.linalg.solve_sylvester(a, b, q)
    return apply(SOLVE_SYLVESTER, a, b, q)


# --------------------------------------------------------------------------- sqrtm


def _sqrtm(x):
    root = scipy.linalg.sqrtm(x)
    if np.iscomplexobj(root):
        raise UnsupportedOperationError(
            "scipy.linalg.sqrtm of a matrix with a complex square root",
            reason="complex values are not traced",
            hint="the square root is real for matrices without negative real eigenvalues, "
            "e.g. symmetric positive definite ones")
    return root


def _sqrtm_sample(rng):
    n = int(rng.integers(1, 4))
    a = rng.normal(size=(n, n))
    return (a @ a.T + n * np.eye(n) + 0.3 * rng.normal(size=(n, n)),), {}


SQRTM = defprimitive(
    "sqrtm", _sqrtm, category=LINALG, display="√{x:p}",
    grads={"x": (lambda g, out, x: SOLVE_SYLVESTER(_mT(out), _mT(out), g),
                 "Ā: {out:p}ᵀĀ + Ā{out:p}ᵀ = ḡ")},
    sample=_sqrtm_sample,
    doc="scipy.linalg.sqrtm(x): the principal matrix square root (real results only)",
)


def sqrtm(A, disp=None, blocksize=None):
    """scipy.linalg.sqrtm, traced: the principal square root S with S·S = A.

    Example:
        >>> sqrtm(np.diag([4.0, 9.0])).tolist()
        [[2.0, 0.0], [0.0, 3.0]]
    """
    if not is_traced(A):
        given = {key: value for key, value in (("disp", disp), ("blocksize", blocksize))
                 if value is not None}
        return scipy.linalg.sqrtm(A, **given)
    return apply(SQRTM, A)
