"""References for the linear-algebra rules: products, structure, decompositions, norms.

Where autograd has the function with a gradient it is used directly; where it
does not (qr, vdot) or reads the matrix differently from numpy (eigh and
cholesky read one triangle), the reference is built from functions autograd
does differentiate, so it stays independent of tracegraph's rules.
"""

from __future__ import annotations

import math

import autograd.numpy as anp
import autograd.numpy.linalg as alg
import numpy as np
from autograd.tracer import getval


def _mT(a):
    return anp.swapaxes(a, -1, -2)


def _from_triangle(x, lower=True):
    """The symmetric matrix numpy's eigh/cholesky see: one triangle mirrored."""
    if lower:
        return anp.tril(x) + _mT(anp.tril(x, -1))
    return anp.triu(x) + _mT(anp.triu(x, 1))


def _tril(x, k=0):
    n, m = np.shape(x)[-2:] if np.ndim(x) >= 2 else (np.shape(x)[-1],) * 2
    return np.tril(np.ones((n, m)), k) * x


def _triu(x, k=0):
    n, m = np.shape(x)[-2:] if np.ndim(x) >= 2 else (np.shape(x)[-1],) * 2
    return np.triu(np.ones((n, m)), k) * x


def _diagonal(x, offset=0, axis1=0, axis2=1):
    moved = anp.moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = np.shape(moved)[-2:]
    steps = np.arange(max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols)))
    return moved[..., steps + max(-offset, 0), steps + max(offset, 0)]


def _kron(x, y):
    ndim = max(np.ndim(x), np.ndim(y))
    xs = (1,) * (ndim - np.ndim(x)) + np.shape(x)
    ys = (1,) * (ndim - np.ndim(y)) + np.shape(y)
    spread = (anp.reshape(x, tuple(n for m in xs for n in (m, 1)))
              * anp.reshape(y, tuple(n for m in ys for n in (1, m))))
    return anp.reshape(spread, tuple(a * b for a, b in zip(xs, ys)))


def _cross(x, y, axisa=-1, axisb=-1, axisc=-1):
    a = anp.moveaxis(x, axisa, -1)
    b = anp.moveaxis(y, axisb, -1)
    components = [a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                  a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                  a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]]
    return anp.moveaxis(anp.stack(components, axis=-1), -1, axisc)


def _explicit(subscripts, shapes):
    """Subscripts with ellipses replaced by letters and the output spelled out."""
    text = subscripts.replace(" ", "")
    head, arrow, tail = text.partition("->")
    subs = head.split(",")
    spare = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in text]
    widths = [len(shape) - len(sub.replace("...", "")) if "..." in sub else 0
              for sub, shape in zip(subs, shapes)]
    batch = "".join(spare[:max(widths, default=0)])
    subs = [sub.replace("...", batch[len(batch) - w:]) for sub, w in zip(subs, widths)]
    if arrow:
        return subs, tail.replace("...", batch)
    joined = "".join(subs)
    return subs, batch + "".join(sorted(c for c in set(joined) - set(batch)
                                        if joined.count(c) == 1))


def _einsum(*operands, subscripts, optimize=False):
    """einsum by broadcasting: diagonals taken by indexing, products, sums, a transpose."""
    subs, output = _explicit(subscripts, [np.shape(op) for op in operands])
    letters = sorted(set("".join(subs)))
    total = 1.0
    for sub, op in zip(subs, operands):
        while len(set(sub)) < len(sub):
            letter = next(c for c in sub if sub.count(c) > 1)
            i = sub.index(letter)
            j = sub.index(letter, i + 1)
            n = np.shape(op)[i]
            op = anp.moveaxis(op, (i, j), (-2, -1))[..., np.arange(n), np.arange(n)]
            sub = "".join(c for k, c in enumerate(sub) if k not in (i, j)) + letter
        present = [c for c in letters if c in sub]
        op = anp.transpose(op, [sub.index(c) for c in present]) if present else op
        sizes = dict(zip(present, np.shape(op)))
        total = total * anp.reshape(op, tuple(sizes.get(c, 1) for c in letters))
    summed = tuple(k for k, c in enumerate(letters) if c not in output)
    result = anp.sum(total, axis=summed) if summed else total
    kept = [c for c in letters if c in output]
    return anp.transpose(result, [kept.index(c) for c in output]) if output else result


def _solve(a, b):
    if np.ndim(b) == 1:
        return anp.matmul(alg.inv(a), b[..., None])[..., 0]
    return anp.matmul(alg.inv(a), b)


def _laplace_det(x):
    """det by cofactor expansion along the first row: autograd's own det divides by it
    (its gradient is det·x⁻ᵀ), which fails at the singular matrices the samples include."""
    n = np.shape(x)[-1]
    if n == 1:
        return x[..., 0, 0]
    total = 0.0
    for j in range(n):
        minor = anp.concatenate([x[..., 1:, :j], x[..., 1:, j + 1:]], axis=-1)
        total = total + (-1.0) ** j * x[..., 0, j] * _laplace_det(minor)
    return total


def _pinv(x, rcond=None, hermitian=False, **rtol):
    if hermitian:
        return alg.inv(_from_triangle(x))
    m, n = np.shape(x)[-2:]
    if m >= n:
        return anp.matmul(alg.inv(anp.matmul(_mT(x), x)), _mT(x))
    return anp.matmul(_mT(x), alg.inv(anp.matmul(x, _mT(x))))


def _cholesky(x, upper=False):
    factor = alg.cholesky(_from_triangle(x, lower=not upper))
    return _mT(factor) if upper else factor


def _eigh_values(x, UPLO="L", with_vectors=True):
    return alg.eigh(_from_triangle(x, lower=UPLO == "L"), UPLO=UPLO)[0]


def _eigh_vectors(x, UPLO="L"):
    return alg.eigh(_from_triangle(x, lower=UPLO == "L"), UPLO=UPLO)[1]


def _hermitian_svd(x):
    """numpy's svd(hermitian=True): eigh of the lower triangle, sorted by |eigenvalue|."""
    w, u = alg.eigh(_from_triangle(x))
    order = np.argsort(np.abs(getval(w)), axis=-1)[..., ::-1]
    signs = np.sign(np.take_along_axis(getval(w), order, axis=-1))
    rows = np.arange(np.shape(x)[-1])
    batch = np.shape(x)[:-2]
    if batch:
        picks = tuple(np.indices(batch + (np.shape(x)[-1],))[:-1]) + (order,)
        s = anp.abs(w[picks])
        u = anp.swapaxes(anp.swapaxes(u, -1, -2)[picks], -1, -2)
    else:
        s = anp.abs(w[order])
        u = u[:, order]
    del rows
    return u, s, _mT(u * signs[..., None, :])


def _svd(x, full_matrices=True, hermitian=False):
    if hermitian:
        return _hermitian_svd(x)
    # autograd differentiates only the thin SVD; the samples use full_matrices=True
    # for square matrices, where both are the same.
    return alg.svd(x, full_matrices=False)


def _svd_s(x, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        return _hermitian_svd(x)[1]
    return alg.svd(x, compute_uv=False)


def _qr(x, mode="reduced"):
    """QR by modified Gram-Schmidt, with R's diagonal signs taken from numpy's."""
    rows, cols = np.shape(x)[-2:]
    k = min(rows, cols)
    signs = np.sign(np.diagonal(np.linalg.qr(getval(x), mode="r")[..., :k, :k],
                                axis1=-2, axis2=-1))
    zero = 0.0 * x[..., 0, 0]
    columns, r = [], [[zero] * cols for _ in range(k)]
    for j in range(cols):
        v = x[..., :, j]
        for i, q in enumerate(columns):
            r[i][j] = anp.sum(q * v, axis=-1)
            if j < k:
                v = v - r[i][j][..., None] * q
        if j < k:
            r[j][j] = anp.sqrt(anp.sum(v * v, axis=-1)) * signs[..., j]
            columns.append(v / r[j][j][..., None])
    q = anp.stack(columns, axis=-1)
    return q, anp.stack([anp.stack(row, axis=-1) for row in r], axis=-2)


def _vector_norm(x, ord=1, axis=None, keepdims=False):
    axes = tuple(range(np.ndim(x))) if axis is None else axis
    magnitude = anp.abs(x)
    if ord == math.inf:
        return anp.max(magnitude, axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return anp.min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        return anp.sum(0.0 * x + (getval(x) != 0), axis=axes, keepdims=keepdims)
    return anp.sum(magnitude ** ord, axis=axes, keepdims=keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord="nuc", axis=(-2, -1), keepdims=False):
    moved = anp.moveaxis(x, axis, (-2, -1))
    if ord in (1, -1):
        sums = anp.sum(anp.abs(moved), axis=-2)
        result = anp.max(sums, axis=-1) if ord == 1 else anp.min(sums, axis=-1)
    elif ord in (math.inf, -math.inf):
        sums = anp.sum(anp.abs(moved), axis=-1)
        result = anp.max(sums, axis=-1) if ord > 0 else anp.min(sums, axis=-1)
    else:
        s = alg.svd(moved, compute_uv=False)
        result = anp.sum(s, axis=-1) if ord == "nuc" else (
            anp.max(s, axis=-1) if ord == 2 else anp.min(s, axis=-1))
    if keepdims:
        shape = list(np.shape(x))
        for a in axis:
            shape[a] = 1
        result = anp.reshape(result, tuple(shape))
    return result


REFERENCES = {
    "tensordot": lambda x, y, axes, via="tensordot": anp.tensordot(x, y, axes=axes),
    "vdot": lambda x, y: anp.sum(anp.ravel(x) * anp.ravel(y)),
    "vecdot": lambda x, y, axes=(-1, -1): anp.sum(x * y, axis=axes[0]),
    "outer": lambda x, y: anp.ravel(x)[:, None] * anp.ravel(y)[None, :],
    "kron": _kron,
    "matrix_trace": lambda x, offset=0, axis1=0, axis2=1: anp.sum(
        _diagonal(x, offset, axis1, axis2), axis=-1),
    "diagonal": _diagonal,
    "diag": lambda x, k=0: anp.diag(x, k),
    "tril": _tril,
    "triu": _triu,
    "cross": _cross,
    "einsum": _einsum,
    "inv": lambda x: alg.inv(x),
    "solve": _solve,
    "det": _laplace_det,
    "slogdet": lambda x: alg.slogdet(x)[1],
    "pinv": _pinv,
    "cholesky": _cholesky,
    "eigh_values": _eigh_values,
    "eigh_vectors": _eigh_vectors,
    "svd_u": lambda x, full_matrices=True, hermitian=False: _svd(x, full_matrices, hermitian)[0],
    "svd_s": _svd_s,
    "svd_vh": lambda x, full_matrices=True, hermitian=False: _svd(x, full_matrices, hermitian)[2],
    "qr_q": lambda x, mode="reduced": _qr(x, mode)[0],
    "qr_r": lambda x, mode="reduced": _qr(x, mode)[1],
    "vector_norm": _vector_norm,
    "matrix_norm": _matrix_norm,
}
