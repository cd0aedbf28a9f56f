"""Per-rule cost: tracegraph forward + backward against a hand-written numpy forward + VJP.

For each row, on arrays of 1e5 elements: tracegraph traces ``f(inputs)`` and runs
``backward(cotangent)``; the hand-written version computes the same forward
value with numpy and the VJP of every input in plain numpy, as one would write
it by hand.  All are timed interleaved in this one process (the best of the
repeats), and the ratio tracegraph / numpy is printed, worst first, with the
same ratio for the rules alone (a bare tape and the backward loop, without the
Trace facade's per-call NaN/inf scans); the target is a ratio under 2 for
every rule.

    python bench/rules_bench.py               # every row
    python bench/rules_bench.py --only var,std
    python bench/rules_bench.py --repeats 5

Adding a row: call ``row(name, inputs, traced, by_hand)`` below, where
``traced(**inputs)`` is the numpy code tracegraph traces and ``by_hand(g,
**inputs)`` returns ``(value, [vjp for each input])`` written with numpy.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special as sc
import scipy.stats as st

import tracegraph as tg
from run import rules_alone, steady_heap  # the shared harness (bench/run.py)
from tracegraph.scipy import stats as tgstats

N = 100_000
RNG = np.random.default_rng(0)


@dataclass(frozen=True)
class Row:
    name: str
    inputs: dict[str, np.ndarray]
    traced: Callable[..., Any]
    by_hand: Callable[..., tuple[Any, list[Any]]]


ROWS: list[Row] = []


def row(name: str, inputs: dict[str, Any], traced: Callable[..., Any],
        by_hand: Callable[..., tuple[Any, list[Any]]]) -> None:
    """Register one benchmark row (see the module doc)."""
    ROWS.append(Row(name, inputs, traced, by_hand))


def uniform(low: float, high: float, shape: Any = N) -> np.ndarray:
    return RNG.uniform(low, high, size=shape)


def _cotangent(value: Any) -> Any:
    return RNG.uniform(-1.0, 1.0, size=np.shape(value)) if np.ndim(value) else 0.7


def run_tracegraph(r: Row, g: Any) -> Any:
    tracer = tg.Tracer()
    with tracer:
        leaves = {name: tracer.input(name, value) for name, value in r.inputs.items()}
        trace = tracer.finish(r.traced(**leaves))
    trace.backward(g)
    return trace.grads


def best_times(candidates: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """The fastest of ``repeats`` runs of each candidate, interleaved.  On a shared machine
    other processes only ever add time, so the minimum is the steadiest estimate of what a
    rule costs (bench/run.py's workloads report medians)."""
    best = {name: float("inf") for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            gc.collect()
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def ratios(r: Row, repeats: int) -> tuple[float, float, float, float]:
    """(tracegraph / numpy, rules-only / numpy, tracegraph s, numpy s), one interleaved run."""
    g = _cotangent(r.traced(**r.inputs))
    times = best_times({"tracegraph": lambda: run_tracegraph(r, g),
                        "engine": lambda: rules_alone(r.inputs, r.traced, g),
                        "numpy": lambda: r.by_hand(g, **r.inputs)}, repeats)
    numpy_time = times["numpy"]
    return (times["tracegraph"] / numpy_time, times["engine"] / numpy_time,
            times["tracegraph"], numpy_time)


def check(r: Row) -> None:
    """The hand-written VJPs must agree with tracegraph's, or the timing means nothing."""
    g = _cotangent(r.traced(**r.inputs))
    grads = run_tracegraph(r, g)
    _, by_hand = r.by_hand(g, **r.inputs)
    for name, expected in zip(r.inputs, by_hand):
        np.testing.assert_allclose(grads[name], expected, rtol=1e-7, atol=1e-9,
                                   err_msg=f"{r.name}: hand-written VJP of {name} differs")


# --------------------------------------------------------------------------- elementwise rows

X = uniform(0.1, 0.9)
Y = uniform(0.5, 2.0)


def unary(name: str, f: Callable, slope: Callable, x: np.ndarray = X) -> None:
    """A one-input elementwise row: ``slope(out, x)`` is the local derivative."""
    def by_hand(g, x):
        out = f(x)
        return out, [g * slope(out, x)]
    row(name, {"x": x}, lambda x: f(x), by_hand)


unary("exp", np.exp, lambda out, x: out)
unary("log", np.log, lambda out, x: 1.0 / x)
unary("sqrt", np.sqrt, lambda out, x: 0.5 / out)
unary("sin", np.sin, lambda out, x: np.cos(x))
unary("tanh", np.tanh, lambda out, x: 1.0 - out * out)
unary("arcsin", np.arcsin, lambda out, x: 1.0 / np.sqrt(1.0 - x * x))
unary("arccos", np.arccos, lambda out, x: -1.0 / np.sqrt(1.0 - x * x))
unary("arcsinh", np.arcsinh, lambda out, x: 1.0 / np.sqrt(x * x + 1.0))
unary("arccosh", np.arccosh, lambda out, x: 1.0 / np.sqrt(x * x - 1.0), x=X + 1.5)
unary("arctanh", np.arctanh, lambda out, x: 1.0 / (1.0 - x * x))
unary("exp2", np.exp2, lambda out, x: out * np.log(2.0))
unary("cbrt", np.cbrt, lambda out, x: 1.0 / (3.0 * out * out))
unary("reciprocal", np.reciprocal, lambda out, x: -out * out)
unary("sinc", np.sinc, lambda out, x: (np.cos(np.pi * x) - out) / x)
unary("deg2rad", np.deg2rad, lambda out, x: np.pi / 180.0)
unary("abs", np.abs, lambda out, x: np.sign(x))
unary("relu", tg.relu, lambda out, x: (x > 0) * 1.0, x=X - 0.5)
unary("sigmoid", tg.sigmoid, lambda out, x: out * (1.0 - out))
unary("floor", np.floor, lambda out, x: np.zeros_like(x), x=X * 10.0)
unary("sign", np.sign, lambda out, x: np.zeros_like(x), x=X - 0.5)
unary("erf", sc.erf, lambda out, x: 2.0 / np.sqrt(np.pi) * np.exp(-x * x))
unary("gammaln", sc.gammaln, lambda out, x: sc.digamma(x))
unary("digamma", sc.digamma, lambda out, x: sc.polygamma(1, x))
unary("expit", sc.expit, lambda out, x: out * (1.0 - out))
unary("i0", sc.i0, lambda out, x: sc.i1(x))

NANS = X.copy()
NANS[::10] = np.nan
unary("nan_to_num", np.nan_to_num, lambda out, x: np.isfinite(x) * 1.0, x=NANS)


def binary(name: str, f: Callable, slopes: Callable, x: np.ndarray = X,
           y: np.ndarray = Y) -> None:
    def by_hand(g, x, y):
        out = f(x, y)
        dx, dy = slopes(out, x, y)
        return out, [g * dx, g * dy]
    row(name, {"x": x, "y": y}, lambda x, y: f(x, y), by_hand)


binary("add (floor: the cheapest rule)", np.add, lambda out, x, y: (1.0, 1.0))
binary("maximum", np.maximum, lambda out, x, y: ((x > y) * 1.0, (y > x) * 1.0), y=X[::-1])
binary("arctan2", np.arctan2, lambda out, x, y: (y / (x * x + y * y), -x / (x * x + y * y)))
binary("hypot", np.hypot, lambda out, x, y: (x / out, y / out))
binary("logaddexp", np.logaddexp, lambda out, x, y: (np.exp(x - out), np.exp(y - out)))
binary("mod", np.mod, lambda out, x, y: (np.ones_like(x), -np.floor(x / y)), x=X * 5.0)
binary("fmod", np.fmod, lambda out, x, y: (np.ones_like(x), -np.trunc(x / y)), x=X * 5.0)
binary("xlogy", sc.xlogy, lambda out, x, y: (np.log(y), x / y))
binary("power", np.power, lambda out, x, y: (y * x ** (y - 1.0), out * np.log(x)))


def _clip_by_hand(g, x):
    out = np.clip(x, 0.3, 0.7)
    return out, [g * ((x > 0.3) & (x < 0.7))]


row("clip", {"x": X}, lambda x: np.clip(x, 0.3, 0.7), _clip_by_hand)

# --------------------------------------------------------------------------- reductions

M = RNG.normal(size=(100, 1000))
MASK = RNG.random((100, 1000)) > 0.3


def reduction(name: str, traced: Callable, by_hand: Callable, x: np.ndarray = M) -> None:
    row(name, {"x": x}, traced, by_hand)


reduction("sum(axis=1)", lambda x: np.sum(x, axis=1),
          lambda g, x: (np.sum(x, axis=1), [np.broadcast_to(g[:, None], x.shape) * 1.0]))
reduction("sum(where=)", lambda x: np.sum(x, axis=1, where=MASK),
          lambda g, x: (np.sum(x, axis=1, where=MASK), [g[:, None] * MASK]))
reduction("mean(axis=0)", lambda x: np.mean(x, axis=0),
          lambda g, x: (np.mean(x, axis=0), [np.broadcast_to(g / x.shape[0], x.shape) * 1.0]))


def _max_by_hand(g, x):
    out = np.max(x, axis=1)
    mask = x == out[:, None]
    return out, [g[:, None] * mask / mask.sum(axis=1, keepdims=True)]


reduction("max(axis=1)", lambda x: np.max(x, axis=1), _max_by_hand)


def _var_by_hand(g, x):
    mean = x.mean(axis=1, keepdims=True)
    out = np.var(x, axis=1, ddof=1)
    return out, [g[:, None] * 2.0 * (x - mean) / (x.shape[1] - 1)]


reduction("var(axis=1; ddof=1)", lambda x: np.var(x, axis=1, ddof=1), _var_by_hand)


def _std_by_hand(g, x):
    mean = x.mean(axis=1, keepdims=True)
    out = np.std(x, axis=1)
    return out, [g[:, None] * (x - mean) / (x.shape[1] * out[:, None])]


reduction("std(axis=1)", lambda x: np.std(x, axis=1), _std_by_hand)


def _norm_by_hand(g, x):
    out = np.linalg.norm(x, axis=1)
    return out, [g[:, None] * x / out[:, None]]


reduction("norm(axis=1)", lambda x: np.linalg.norm(x, axis=1), _norm_by_hand)

P = RNG.uniform(0.99, 1.01, size=(100, 1000))


def _prod_by_hand(g, x):
    out = np.prod(x, axis=1)
    return out, [g[:, None] * out[:, None] / x]


reduction("prod(axis=1)", lambda x: np.prod(x, axis=1), _prod_by_hand, x=P)
P_ZEROS = P.copy()
P_ZEROS[::7, 3] = 0.0


def _prod_zero_by_hand(g, x):
    # Products of the others with prefix/suffix cumulative products (no division).
    left = np.cumprod(np.concatenate([np.ones((x.shape[0], 1)), x[:, :-1]], axis=1), axis=1)
    right = np.cumprod(np.concatenate([np.ones((x.shape[0], 1)), x[:, :0:-1]], axis=1),
                       axis=1)[:, ::-1]
    return np.prod(x, axis=1), [g[:, None] * left * right]


reduction("prod with zeros", lambda x: np.prod(x, axis=1), _prod_zero_by_hand, x=P_ZEROS)


def _cumsum_by_hand(g, x):
    return np.cumsum(x, axis=1), [np.cumsum(g[:, ::-1], axis=1)[:, ::-1]]


reduction("cumsum(axis=1)", lambda x: np.cumsum(x, axis=1), _cumsum_by_hand)


def _cumprod_by_hand(g, x):
    out = np.cumprod(x, axis=1)
    return out, [np.cumsum((g * out)[:, ::-1], axis=1)[:, ::-1] / x]


reduction("cumprod(axis=1)", lambda x: np.cumprod(x, axis=1), _cumprod_by_hand, x=P)
W = uniform(0.5, 2.0, 1000)


def _average_by_hand(g, x, w):
    total = w.sum()
    out = (x * w).sum(axis=1) / total
    return out, [g[:, None] * w / total, (g[:, None] * (x - out[:, None])).sum(axis=0) / total]


row("average(weights)", {"x": M, "w": W},
    lambda x, w: np.average(x, axis=1, weights=w), _average_by_hand)
M_NANS = M.copy()
M_NANS[:, ::9] = np.nan


def _nanmean_by_hand(g, x):
    present = ~np.isnan(x)
    return np.nanmean(x, axis=1), [g[:, None] * present / present.sum(axis=1, keepdims=True)]


reduction("nanmean(axis=1)", lambda x: np.nanmean(x, axis=1), _nanmean_by_hand, x=M_NANS)


def _median_by_hand(g, x):
    n = x.shape[1]
    order = np.argsort(x, axis=1)
    weights = np.zeros_like(x)
    rows = np.arange(x.shape[0])
    weights[rows, order[:, (n - 1) // 2]] += 0.5
    weights[rows, order[:, n // 2]] += 0.5
    return np.median(x, axis=1), [g[:, None] * weights]


reduction("median(axis=1)", lambda x: np.median(x, axis=1), _median_by_hand)


def _quantile_by_hand(g, x):
    n = x.shape[1]
    position = 0.3 * (n - 1)
    low, frac = int(np.floor(position)), position - np.floor(position)
    order = np.argsort(x, axis=1)
    weights = np.zeros_like(x)
    rows = np.arange(x.shape[0])
    weights[rows, order[:, low]] += 1.0 - frac
    weights[rows, order[:, low + 1]] += frac
    return np.quantile(x, 0.3, axis=1), [g[:, None] * weights]


reduction("quantile(0.3; axis=1)", lambda x: np.quantile(x, 0.3, axis=1), _quantile_by_hand)


def _ptp_by_hand(g, x):
    top = x == x.max(axis=1, keepdims=True)
    bottom = x == x.min(axis=1, keepdims=True)
    return np.ptp(x, axis=1), [g[:, None] * (top * 1.0 - bottom)]


reduction("ptp(axis=1)", lambda x: np.ptp(x, axis=1), _ptp_by_hand)


def _diff_by_hand(g, x):
    grad = np.zeros_like(x)
    grad[:, 1:] += g
    grad[:, :-1] -= g
    return np.diff(x, axis=1), [grad]


reduction("diff(axis=1)", lambda x: np.diff(x, axis=1), _diff_by_hand)

# --------------------------------------------------------------------------- convolution, scipy.stats

SIGNAL = RNG.normal(size=N)
KERNEL = RNG.normal(size=9)


def _convolve_by_hand(g, a, v):
    out = np.convolve(a, v, "same")
    full = np.zeros(a.size + v.size - 1)
    start = (v.size - 1) // 2
    full[start:start + a.size] = g
    return out, [np.correlate(full, v, "valid"), np.correlate(full, a, "valid")]


row("convolve(same)", {"a": SIGNAL, "v": KERNEL}, lambda a, v: np.convolve(a, v, "same"),
    _convolve_by_hand)


def _norm_logpdf_by_hand(g, x, mu, sigma):
    z = (x - mu) / sigma
    out = st.norm.logpdf(x, mu, sigma)
    return out, [-g * z / sigma, np.sum(g * z / sigma), np.sum(g * (z * z - 1.0) / sigma)]


row("norm.logpdf", {"x": SIGNAL, "mu": np.array(0.3), "sigma": np.array(1.7)},
    lambda x, mu, sigma: tgstats.norm.logpdf(x, mu, sigma), _norm_logpdf_by_hand)


def _gamma_logpdf_by_hand(g, x, a):
    out = st.gamma.logpdf(x, a)
    return out, [g * ((a - 1.0) / x - 1.0), np.sum(g * (np.log(x) - sc.digamma(a)))]


row("gamma.logpdf", {"x": Y, "a": np.array(2.5)}, lambda x, a: tgstats.gamma.logpdf(x, a),
    _gamma_logpdf_by_hand)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated row names")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--trimming-heap", action="store_true",
                        help="keep glibc's default heap (returns memory to the OS after each "
                        "call, so every large array pays page faults)")
    args = parser.parse_args(argv)
    heap = "glibc default heap" if args.trimming_heap or not steady_heap() else "steady heap"
    chosen = [r for r in ROWS if not args.only or r.name in args.only.split(",")]
    results = []
    for r in chosen:
        check(r)
        results.append((r.name, *ratios(r, args.repeats)))
    results.sort(key=lambda item: -item[1])
    print(f"best of {args.repeats} interleaved runs, 1e5 elements, {heap}; ratio = "
          "tracegraph.trace forward + backward / hand-written numpy forward + VJP;\n"
          "rules = the same on a bare tape (the rules and the backward loop, without the "
          "Trace's NaN/inf checks)\n")
    print(f"{'rule':<26}{'ratio':>8}{'rules':>8}{'tracegraph':>14}{'numpy':>12}")
    for name, ratio, engine, ours, theirs in results:
        print(f"{name:<26}{ratio:>7.2f}×{engine:>7.2f}×{ours * 1e3:>11.2f} ms"
              f"{theirs * 1e3:>9.2f} ms")
    print("\nworst ten: " + ", ".join(f"{name} {ratio:.2f}×" for name, ratio, *_ in results[:10]))
    print("over 2× (tracegraph): " + (", ".join(n for n, ratio, *_ in results if ratio > 2.0)
                                      or "none"))
    print("over 2× (rules): " + (", ".join(n for n, _, engine, *_ in results if engine > 2.0)
                                 or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
