"""The linear-algebra and shape rules against hand-written numpy: forward + VJP.

For every rule (as a user calls it: ``np.linalg.svd(A)``, ``np.pad(x, 2,
mode="reflect")``), on arrays of about 1e5 elements (316 × 316 matrices for
the matrix functions, smaller where numpy itself takes seconds): the time
of tracegraph tracing the call and back-propagating a cotangent, against
numpy code that computes the same value and the same input gradients by
hand.  Ratios are measured in this one run (implementations interleaved,
median of the repeats, and the ratio of the fastest runs, which a busy
machine disturbs less); the worst ten are printed first.

    python bench/linalg_bench.py            # every rule (about a minute)
    python bench/linalg_bench.py --only svd,pad --repeats 9
    python bench/linalg_bench.py --quick    # small sizes, a smoke run

Large arrays are allocated fresh on every traced call (the trace keeps its
values) while hand-written code reuses freed memory, so glibc's page faults
weigh on tracegraph's side; ``MALLOC_MMAP_THRESHOLD_=1073741824
MALLOC_TRIM_THRESHOLD_=1073741824`` (and ``OPENBLAS_NUM_THREADS=1`` on a
shared machine) measure the rules without that.

Each case checks once that tracegraph's gradient equals the hand-written
one, so a ratio never compares different computations.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracegraph as tg
from tracegraph.rules.decompositions import DECOMPOSITIONS

from run import rules_alone  # noqa: E402  (the shared harness, bench/run.py)

Case = tuple[dict[str, np.ndarray], Callable[..., Any], Callable[..., Any]]


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _fold(grad):
    """Gradient of a function reading the lower triangle (eigh, cholesky)."""
    return np.tril(grad + grad.T) - np.diag(np.diag(grad))


def gradient_of(name: str, vjp: Callable[..., tuple]) -> Callable[..., tuple]:
    """A hand-written case from ``vjp(*inputs, g) -> (value, gradient of input name)``."""
    def by_hand(g, **inputs):
        value, grad = vjp(*inputs.values(), g)
        return value, {name: grad}
    return by_hand


def cases(n: int, rng: np.random.Generator) -> dict[str, Callable[[], Case]]:
    """name -> builder of (inputs, traced function, hand-written forward + VJP).

    The hand-written function takes the inputs and the cotangent and returns
    (value, {input name: gradient})."""
    side = round(n ** 0.5) // 4 * 4
    n = side * side
    vector = rng.normal(size=n)
    matrix = rng.normal(size=(side, side))
    tall = rng.normal(size=(side, side // 2))
    well = matrix + side * np.eye(side)
    sym = matrix + matrix.T
    spd = matrix @ matrix.T + side * np.eye(side)

    def svd_vjp(A, gU, gS, gVh):
        U, S, Vh = np.linalg.svd(A, full_matrices=False)
        V, gV = Vh.T, gVh.T
        F = S[None, :] ** 2 - S[:, None] ** 2
        np.fill_diagonal(F, np.inf)
        F = 1.0 / F
        J = F * (U.T @ gU - gU.T @ U)
        K = F * (V.T @ gV - gV.T @ V)
        grad = U @ (J * S[None, :] + np.diag(gS) + S[:, None] * K) @ Vh
        grad += (gU - U @ (U.T @ gU)) / S[None, :] @ Vh
        return (U, S, Vh), grad

    def eigh_vjp(A, gw, gV):
        w, V = np.linalg.eigh(A)
        F = w[None, :] - w[:, None]
        np.fill_diagonal(F, np.inf)
        grad = V @ (np.diag(gw) + (V.T @ gV) / F) @ V.T
        return (w, V), _fold(grad)

    def qr_vjp(A, gQ, gR):
        Q, R = np.linalg.qr(A)
        M = R @ gR.T - gQ.T @ Q
        copied = np.tril(M) + np.tril(M, -1).T
        return (Q, R), np.linalg.solve(R, (gQ + Q @ copied).T).T

    def cholesky_vjp(A, gL):
        L = np.linalg.cholesky(A)
        P = L.T @ gL
        phi = np.tril(P) - 0.5 * np.diag(np.diag(P))
        Li = np.linalg.inv(L)
        return L, _fold(Li.T @ phi @ Li)

    def pinv_vjp(A, g):
        P = np.linalg.pinv(A)
        left = g.T @ (P @ P.T)
        right = (P.T @ P) @ g.T
        return P, -(P.T @ g @ P.T) + (left - A @ (P @ left)) + (right - (right @ P) @ A)

    def top_singular_vjp(A, g):
        U, S, Vh = np.linalg.svd(A)
        return S[0], g * np.outer(U[:, 0], Vh[0])

    def nuclear_vjp(A, g):
        U, S, Vh = np.linalg.svd(A, full_matrices=False)
        return S.sum(), g * (U @ Vh)

    def max_column_vjp(A, g):
        sums = np.abs(A).sum(axis=0)
        j = np.argmax(sums)
        grad = np.zeros_like(A)
        grad[:, j] = g * np.sign(A[:, j])
        return sums[j], grad

    def inv_vjp(A, g):
        inverse = np.linalg.inv(A)
        return inverse, -inverse.T @ g @ inverse.T

    def solve_by_hand(A, b, g):
        x = np.linalg.solve(A, b)
        grad_b = np.linalg.solve(A.T, g)
        return x, {"A": -np.outer(grad_b, x), "b": grad_b}

    def det_vjp(A, g):
        d = np.linalg.det(A)
        return d, g * d * np.linalg.inv(A).T

    def p_norm_vjp(x, g):
        total = np.sum(np.abs(x) ** 3) ** (1 / 3)
        return total, g * np.sign(x) * (np.abs(x) / total) ** 2

    def sort_vjp(x, g):
        order = np.argsort(x, kind="stable")
        grad = np.empty_like(x)
        grad[order] = g
        return x[order], grad

    def partition_vjp(x, g, k):
        out = np.partition(x, k)
        order = np.argsort(x)
        grad = np.empty_like(x)
        grad[order[np.searchsorted(x[order], out)]] = g  # where each output came from
        return out, grad

    def pad_reflect_vjp(x, g, w):
        rows = np.pad(np.arange(x.shape[0]), w, mode="reflect")
        cols = np.pad(np.arange(x.shape[1]), w, mode="reflect")
        grad = np.zeros_like(x)
        np.add.at(grad, np.ix_(rows, cols), g)
        return np.pad(x, w, mode="reflect"), grad

    def take_vjp(x, g, idx):
        return x[idx], np.bincount(idx, weights=g, minlength=x.size)

    def repeat_vjp(x, g, r):
        return np.repeat(x, r), g.reshape(-1, r).sum(axis=1)

    small = rng.normal(size=(4, 4))
    idx = rng.integers(0, n, size=n)
    take_along = np.argsort(matrix, axis=1)
    conditions = [matrix > 0.5, matrix < -0.5]

    table: dict[str, Callable[[], Case]] = {
        # ------------------------------------------------------------ products
        "matmul": lambda: ({"A": matrix, "B": well}, lambda A, B: A @ B,
                           lambda A, B, g: (A @ B, {"A": g @ B.T, "B": A.T @ g})),
        "dot (N-D)": lambda: ({"A": matrix.reshape(2, side // 2, side)},
                              lambda A: np.dot(A, well),
                              lambda A, g: (np.dot(A, well),
                                            {"A": np.tensordot(g, well, axes=([2], [1]))})),
        "inner": lambda: ({"A": matrix}, lambda A: np.inner(A, well),
                          lambda A, g: (np.inner(A, well), {"A": g @ well})),
        "einsum ij,jk->ik": lambda: ({"A": matrix},
                                     lambda A: np.einsum("ij,jk->ik", A, well),
                                     lambda A, g: (np.einsum("ij,jk->ik", A, well),
                                                   {"A": np.einsum("ik,jk->ij", g, well)})),
        "einsum ii->i": lambda: ({"A": matrix}, lambda A: np.einsum("ii->i", A),
                                 lambda A, g: (np.einsum("ii->i", A), {"A": np.diag(g)})),
        "einsum bi,bi->b": lambda: ({"x": matrix}, lambda x: np.einsum("bi,bi->b", x, well),
                                    lambda x, g: (np.einsum("bi,bi->b", x, well),
                                                  {"x": g[:, None] * well})),
        "tensordot": lambda: ({"A": matrix}, lambda A: np.tensordot(A, well, 1),
                              lambda A, g: (np.tensordot(A, well, 1), {"A": g @ well.T})),
        "vdot": lambda: ({"x": vector}, lambda x: np.vdot(x, vector),
                         lambda x, g: (np.vdot(x, vector), {"x": g * vector})),
        "outer": lambda: ({"x": vector[:side]}, lambda x: np.outer(x, vector[:side]),
                          lambda x, g: (np.outer(x, vector[:side]), {"x": g @ vector[:side]})),
        "kron": lambda: ({"A": matrix[:side // 4, :side // 4]},
                         lambda A: np.kron(A, small),
                         lambda A, g: (np.kron(A, small),
                                       {"A": (g.reshape(side // 4, 4, side // 4, 4)
                                              * small[None, :, None, :]).sum(axis=(1, 3))})),
        "cross": lambda: ({"x": vector[:n // 3 * 3].reshape(-1, 3)},
                          lambda x: np.cross(x, vector[:n // 3 * 3].reshape(-1, 3)),
                          lambda x, g: (np.cross(x, vector[:n // 3 * 3].reshape(-1, 3)),
                                        {"x": np.cross(vector[:n // 3 * 3].reshape(-1, 3),
                                                       g)})),
        "trace": lambda: ({"A": matrix}, lambda A: np.trace(A),
                          lambda A, g: (np.trace(A), {"A": g * np.eye(side)})),
        "diagonal": lambda: ({"A": matrix}, lambda A: np.diagonal(A),
                             lambda A, g: (np.diagonal(A), {"A": np.diag(g)})),
        "diag (vector)": lambda: ({"x": vector[:side]}, lambda x: np.diag(x),
                                  lambda x, g: (np.diag(x), {"x": np.diag(g).copy()})),
        "tril": lambda: ({"A": matrix}, lambda A: np.tril(A),
                         lambda A, g: (np.tril(A), {"A": np.tril(g)})),
        # ------------------------------------------------------------ np.linalg
        "inv": lambda: ({"A": well}, lambda A: np.linalg.inv(A), gradient_of("A", inv_vjp)),
        "solve": lambda: ({"A": well, "b": vector[:side]}, lambda A, b: np.linalg.solve(A, b),
                          solve_by_hand),
        "det": lambda: ({"A": well / side}, lambda A: np.linalg.det(A),
                        gradient_of("A", det_vjp)),
        "slogdet": lambda: ({"A": well}, lambda A: np.linalg.slogdet(A)[1],
                            lambda A, g: (np.linalg.slogdet(A)[1],
                                          {"A": g * np.linalg.inv(A).T})),
        "pinv": lambda: ({"A": tall}, lambda A: np.linalg.pinv(A), gradient_of("A", pinv_vjp)),
        "cholesky": lambda: ({"A": spd}, lambda A: np.linalg.cholesky(A),
                             gradient_of("A", cholesky_vjp)),
        "qr (Q and R)": lambda: ({"A": tall}, lambda A: tuple(np.linalg.qr(A)),
                                 gradient_of("A", lambda A, g: qr_vjp(A, *g))),
        "eigh (w and V)": lambda: ({"A": sym}, lambda A: tuple(np.linalg.eigh(A)),
                                   gradient_of("A", lambda A, g: eigh_vjp(A, *g))),
        "svd (U, S, Vh)": lambda: ({"A": tall},
                                   lambda A: tuple(np.linalg.svd(A, full_matrices=False)),
                                   gradient_of("A", lambda A, g: svd_vjp(A, *g))),
        "norm ord=2 (matrix)": lambda: ({"A": matrix}, lambda A: np.linalg.norm(A, 2),
                                        gradient_of("A", top_singular_vjp)),
        "norm nuc": lambda: ({"A": matrix}, lambda A: np.linalg.norm(A, "nuc"),
                             gradient_of("A", nuclear_vjp)),
        "norm ord=1 (matrix)": lambda: ({"A": matrix}, lambda A: np.linalg.norm(A, 1),
                                        gradient_of("A", max_column_vjp)),
        "norm ord=inf (vector)": lambda: ({"x": vector}, lambda x: np.linalg.norm(x, np.inf),
                                          lambda x, g: (np.max(np.abs(x)), {
                                              "x": g * np.sign(x) * (np.abs(x) == np.max(
                                                  np.abs(x)))})),
        "norm ord=3 (vector)": lambda: ({"x": vector}, lambda x: np.linalg.norm(x, 3),
                                        gradient_of("x", p_norm_vjp)),
        # ------------------------------------------------------------ shapes
        "reshape order=F": lambda: ({"x": vector}, lambda x: np.reshape(x, (side, -1), order="F"),
                                    lambda x, g: (np.reshape(x, (side, -1), order="F"),
                                                  {"x": np.reshape(g, -1, order="F")})),
        "moveaxis": lambda: ({"x": vector.reshape(4, side, -1)},
                             lambda x: np.moveaxis(x, 0, -1),
                             lambda x, g: (np.moveaxis(x, 0, -1), {"x": np.moveaxis(g, -1, 0)})),
        "broadcast_to": lambda: ({"x": vector[:side]}, lambda x: np.broadcast_to(x, (side, side)),
                                 lambda x, g: (np.broadcast_to(x, (side, side)),
                                               {"x": g.sum(axis=0)})),
        "tile": lambda: ({"x": vector[:n // 4]}, lambda x: np.tile(x, 4),
                         lambda x, g: (np.tile(x, 4), {"x": g.reshape(4, -1).sum(axis=0)})),
        "repeat": lambda: ({"x": vector[:n // 4]}, lambda x: np.repeat(x, 4),
                           gradient_of("x", lambda x, g: repeat_vjp(x, g, 4))),
        "split": lambda: ({"x": vector}, lambda x: tuple(np.split(x, 4)),
                          lambda x, g: (tuple(np.split(x, 4)), {"x": np.concatenate(g)})),
        "flip": lambda: ({"x": matrix}, lambda x: np.flip(x),
                         lambda x, g: (np.flip(x), {"x": np.flip(g)})),
        "roll": lambda: ({"x": vector}, lambda x: np.roll(x, 7),
                         lambda x, g: (np.roll(x, 7), {"x": np.roll(g, -7)})),
        "rot90": lambda: ({"x": matrix}, lambda x: np.rot90(x),
                          lambda x, g: (np.rot90(x), {"x": np.rot90(g, -1)})),
        "pad constant": lambda: ({"x": matrix}, lambda x: np.pad(x, 2),
                                 lambda x, g: (np.pad(x, 2), {"x": g[2:-2, 2:-2]})),
        "pad reflect": lambda: ({"x": matrix}, lambda x: np.pad(x, 2, mode="reflect"),
                                gradient_of("x", lambda x, g: pad_reflect_vjp(x, g, 2))),
        "take": lambda: ({"x": vector}, lambda x: np.take(x, idx),
                         gradient_of("x", lambda x, g: take_vjp(x, g, idx))),
        "take_along_axis": lambda: ({"x": matrix},
                                    lambda x: np.take_along_axis(x, take_along, axis=1),
                                    lambda x, g: (np.take_along_axis(x, take_along, axis=1),
                                                  {"x": _put_along(g, take_along, x.shape)})),
        "sort": lambda: ({"x": vector}, lambda x: np.sort(x), gradient_of("x", sort_vjp)),
        "partition": lambda: ({"x": vector}, lambda x: np.partition(x, n // 2),
                              gradient_of("x", lambda x, g: partition_vjp(x, g, n // 2))),
        "select": lambda: ({"x": matrix}, lambda x: np.select(conditions, [x, 2 * matrix], -x),
                           lambda x, g: (np.select(conditions, [x, 2 * matrix], -x),
                                         {"x": g * conditions[0] - g * ~(conditions[0]
                                                                          | conditions[1])})),
        "hstack": lambda: ({"x": matrix}, lambda x: np.hstack([x, matrix]),
                           lambda x, g: (np.hstack([x, matrix]), {"x": g[:, :side]})),
        "astype float32": lambda: ({"x": vector}, lambda x: x.astype(np.float32),
                                   lambda x, g: (x.astype(np.float32),
                                                 {"x": g.astype(np.float64)})),
        "bincount weights": lambda: ({"w": vector}, lambda w: np.bincount(idx, weights=w),
                                     lambda w, g: (np.bincount(idx, weights=w), {"w": g[idx]})),
    }
    return table


def _put_along(g, indices, shape):
    grad = np.zeros(shape)
    rows = np.arange(shape[0])[:, None]
    np.add.at(grad, (rows, indices), g)
    return grad


def _pieces(value):
    return list(value) if isinstance(value, tuple) else [value]


def traced_run(inputs, f, cotangent):
    # The outputs of one decomposition share it through a cache keyed by the input's
    # contents; start empty so every run factorises, as a changing input would.
    DECOMPOSITIONS.clear()
    tracer = tg.Tracer()
    with tracer:
        traced = {name: tracer.input(name, value) for name, value in inputs.items()}
        out = f(**traced)
        pieces = _pieces(out)
        total = sum((np.sum(p * c) for p, c in zip(pieces, cotangent)), 0.0) \
            if isinstance(out, tuple) else out
        trace = tracer.finish(total)  # a scalar output is differentiated here (seed 1)
    if not isinstance(out, tuple) and np.ndim(cotangent[0]):
        trace.backward(cotangent[0])
    return trace.grads


def engine_run(inputs, f, cotangent, several):
    """The rules alone (bench/run.py's rules_alone); ``several`` outputs are weighed by
    their cotangents into one number, as traced_run does."""
    DECOMPOSITIONS.clear()
    if not several:
        return rules_alone(inputs, f, cotangent[0])

    def weighed(**traced):
        return sum((np.sum(p * c) for p, c in zip(f(**traced), cotangent)), 0.0)
    return rules_alone(inputs, weighed, 1.0)


def measure(name, build, repeats, rng):
    inputs, f, by_hand = build()
    value = f(**inputs)
    cotangent = [rng.normal(size=np.shape(p)) if np.ndim(p) else 1.0 for p in _pieces(value)]
    hand_g = tuple(cotangent) if isinstance(value, tuple) else (
        cotangent[0] if np.ndim(cotangent[0]) else float(cotangent[0]))
    expected = by_hand(**inputs, g=hand_g)[1]
    got = traced_run(inputs, f, cotangent)
    for key, grad in expected.items():
        np.testing.assert_allclose(got[key], grad, rtol=1e-6, atol=1e-8,
                                   err_msg=f"{name}: gradient of {key} differs")
    runs = {"tracegraph": lambda: traced_run(inputs, f, cotangent),
            "rules": lambda: engine_run(inputs, f, cotangent, isinstance(value, tuple)),
            "numpy": lambda: by_hand(**inputs, g=hand_g)}
    samples = {key: [] for key in runs}
    for _ in range(repeats):
        for key, run in runs.items():
            gc.collect()
            start = time.perf_counter()
            run()
            samples[key].append(time.perf_counter() - start)
    times = {key: statistics.median(values) for key, values in samples.items()}
    fastest = {key: min(values) for key, values in samples.items()}
    return (times["tracegraph"], times["numpy"], fastest["tracegraph"] / fastest["numpy"],
            times["rules"] / times["numpy"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated case names (substrings)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="1e3 elements, 3 repeats")
    args = parser.parse_args(argv)
    n = 1_000 if args.quick else 100_000
    repeats = 3 if args.quick else args.repeats
    rng = np.random.default_rng(0)
    table = cases(n, rng)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",")]
        table = {k: v for k, v in table.items() if any(w in k for w in wanted)}
    side = round(n ** 0.5) // 4 * 4
    baseline = rng.normal(size=side * side)
    fixed = measure("x·1.0", lambda: ({"x": baseline}, lambda x: x * 1.0,
                                      lambda x, g: (x * 1.0, {"x": g * 1.0})), repeats, rng)
    results = []
    for name, build in table.items():
        traced, hand, best, rules = measure(name, build, repeats, rng)
        results.append((traced / hand, name, traced, hand, best, rules))
    results.sort(reverse=True)
    print(f"{len(results)} rules, {side * side:g} elements (matrices {side} × {side}), median "
          f"of {repeats}; ratio = tracegraph / hand-written numpy, forward + VJP")
    print(f"any trace has a fixed cost: x·1.0 takes {fixed[0] * 1e3:.3f} ms traced, "
          f"{fixed[1] * 1e3:.3f} ms by hand ({fixed[0] / fixed[1]:.2f}x); rules whose numpy "
          "version takes microseconds (views: flip, moveaxis) are dominated by it")
    print("rules alone: the same ratio for a bare tape and the backward loop (no facade)")
    header = (f"  {'rule':24s} {'ratio':>7s}  {'tracegraph':>10s}  {'by hand':>10s}"
              f"  {'ratio of the fastest runs':>26s}  {'rules alone':>11s}")
    for title, rows in (("worst ten", results[:10]), ("all", results)):
        print(f"\n{title}:\n{header}")
        for ratio, name, traced, hand, best, rules in rows:
            print(f"  {name:24s} {ratio:6.2f}x  {traced * 1e3:8.3f}ms  {hand * 1e3:8.3f}ms"
                  f"  {best:25.2f}x  {rules:10.2f}x")


if __name__ == "__main__":
    main()
