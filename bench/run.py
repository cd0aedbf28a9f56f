"""tracegraph benchmarks: the workloads of shared/bench/WORKLOADS.md.

Every ratio is measured in this one process run: the implementations are
interleaved inside each repeat and the median of the repeats is reported,
because absolute times drift on shared machines while ratios hold.

    python bench/run.py                  # everything (a few minutes)
    python bench/run.py --only S1,A2     # some workloads
    python bench/run.py --quick          # small sizes, a smoke run

micrograd (``pip install micrograd``) is the scalar anchor; it is optional
and never a dependency of the package.  micrograd 0.1.0 on PyPI has no
``tanh``, so S1 adds one written exactly like its ``relu`` (a closure that
accumulates ``(1 - out**2) * out.grad``).
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import tracegraph as tg
from tracegraph import autodiff
from tracegraph.core import Tape

try:
    from micrograd.engine import Value as MicroValue
except ImportError:  # pragma: no cover - optional anchor
    MicroValue = None


# --------------------------------------------------------------------------- harness


def median_times(candidates: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each candidate, interleaved across repeats."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            gc.collect()
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def run_with_deep_stack(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a thread with a big stack and recursion limit (for micrograd)."""
    result: dict[str, Any] = {}
    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(10_000_000)
    threading.stack_size(1 << 30)
    try:
        thread = threading.Thread(target=lambda: result.update(value=fn()))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    return result.get("value")


def peak_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, value


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def rules_alone(inputs: dict[str, Any], f: Callable[..., Any], seed: Any) -> list[Any]:
    """``f(**inputs)`` recorded on a bare tape and differentiated by the backward loop: the
    rules without the Trace facade (its NaN/inf checks of the output and gradients, and
    the copies of gradients it hands out)."""
    tape = Tape()
    leaves = {name: tape.leaf(name, value) for name, value in inputs.items()}
    out = f(**leaves)
    return autodiff.backward(tape.equations, out.index, seed,
                             keep=[leaf.index for leaf in leaves.values()])


def steady_heap() -> bool:
    """Ask glibc to keep freed memory instead of returning it to the OS after each call.

    By default glibc gives back the top of the heap once more than a few MB are
    free, so a program that allocates the same large arrays on every call pays
    page faults for them every time. A tracer keeps every intermediate value
    and gradient alive until the call ends (they are the diagram), so its peak
    memory - and that cost - is a few times the hand-written code's. The array
    workloads are reported both ways; this switches the process to the
    steady-state heap a long-running training loop reaches. Returns False
    where it is not available (non-glibc platforms).
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        big = 1 << 30
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, big) and libc.mallopt(_M_MMAP_THRESHOLD, big))
    except OSError:
        return False


def row(*cells: Any, widths=(26, 14, 14, 14, 12)) -> str:
    return "".join(str(c).ljust(w) for c, w in zip(cells, widths))


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.3f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


# --------------------------------------------------------------------------- S1 scalar chain


def _micrograd_tanh(self):
    out = MicroValue(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += (1 - out.data ** 2) * out.grad
    out._backward = _backward
    return out


if MicroValue is not None and not hasattr(MicroValue, "tanh"):
    MicroValue.tanh = _micrograd_tanh


def s1_tracegraph(n: int) -> tuple[float, float, int]:
    """Trace + backward of the scalar chain; returns (trace s, backward s, recorded ops)."""
    tracer = tg.Tracer()
    with tracer:
        y = tracer.input("x", 0.3)
        ws = [tracer.input(f"w{i}", 0.5 + 0.1 * math.sin(i)) for i in range(n)]
        bs = [tracer.input(f"b{i}", 0.1 * math.cos(i)) for i in range(n)]
        start = time.perf_counter()
        for w, b in zip(ws, bs):
            y = np.tanh(y * w + b)
        traced = time.perf_counter()
        result = tracer.finish(y)
        done = time.perf_counter()
    ops = len(tracer.tape) - (2 * n + 1)
    assert result.grads[f"w{n - 1}"] != 0.0
    return traced - start, done - traced, ops


def s1_micrograd(n: int) -> tuple[float, float, int]:
    x = MicroValue(0.3)
    ws = [MicroValue(0.5 + 0.1 * math.sin(i)) for i in range(n)]
    bs = [MicroValue(0.1 * math.cos(i)) for i in range(n)]
    start = time.perf_counter()
    y = x
    for w, b in zip(ws, bs):
        y = (y * w + b).tanh()
    traced = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    return traced - start, done - traced, 3 * n


def s1_floats(n: int) -> tuple[float, float, int]:
    """Hand-written Python floats with math.tanh: forward and reverse sweep (the floor)."""
    ws = [0.5 + 0.1 * math.sin(i) for i in range(n)]
    bs = [0.1 * math.cos(i) for i in range(n)]
    start = time.perf_counter()
    ys = [0.3]
    y = 0.3
    for w, b in zip(ws, bs):
        y = math.tanh(y * w + b)
        ys.append(y)
    traced = time.perf_counter()
    g = 1.0
    for i in range(n - 1, -1, -1):
        local = g * (1.0 - ys[i + 1] ** 2)
        g = local * ws[i]
    done = time.perf_counter()
    return traced - start, done - traced, 3 * n


def bench_s1(sizes: list[int], repeats: int, huge: int | None) -> None:
    print("\nS1 scalar chain: y = tanh(y*w_i + b_i), trace + backward, per recorded op")
    print(row("n / implementation", "trace/op", "backward/op", "total/op", "vs micrograd"))
    for n in sizes:
        impls: dict[str, Callable[[], Any]] = {
            "tracegraph": lambda n=n: s1_tracegraph(n),
            "python floats": lambda n=n: s1_floats(n),
        }
        if MicroValue is not None:
            impls["micrograd"] = lambda n=n: run_with_deep_stack(lambda: s1_micrograd(n))
        samples: dict[str, list[tuple[float, float, int]]] = {k: [] for k in impls}
        for _ in range(repeats * max(1, min(10, 10_000 // n))):
            for name, run in impls.items():
                gc.collect()
                samples[name].append(run())
        per_op = {}
        for name, values in samples.items():
            ops = values[0][2]
            fwd = statistics.median(v[0] for v in values) / ops
            bwd = statistics.median(v[1] for v in values) / ops
            tot = statistics.median(v[0] + v[1] for v in values) / ops
            per_op[name] = (fwd, bwd, tot)
        anchor = per_op.get("micrograd")
        for name, (fwd, bwd, tot) in per_op.items():
            ratio = f"{tot / anchor[2]:.2f}x" if anchor else "n/a"
            print(row(f"{n:>9,} {name}", us(fwd), us(bwd), us(tot), ratio))
    n_mem = sizes[min(1, len(sizes) - 1)]
    tg_peak, (_, _, tg_ops) = peak_bytes(lambda: s1_tracegraph(n_mem))
    print(f"peak memory per recorded op (n = {n_mem:,}, tracemalloc, inputs included):")
    print(f"  tracegraph {tg_peak / tg_ops:,.0f} B/op")
    if MicroValue is not None:
        mg_peak, (_, _, mg_ops) = peak_bytes(
            lambda: run_with_deep_stack(lambda: s1_micrograd(n_mem)))
        print(f"  micrograd  {mg_peak / mg_ops:,.0f} B/op   ratio {tg_peak / mg_peak:.2f}x")
    if huge:
        fwd, bwd, ops = s1_tracegraph(huge)
        print(f"n = {huge:,} once: trace {fwd:.2f} s, backward {bwd:.2f} s "
              f"({(fwd + bwd) / ops * 1e6:.3f} µs/op), no RecursionError")


# --------------------------------------------------------------------------- S2 micrograd demo


def _moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    half = n // 2
    t1 = rng.uniform(0, math.pi, half)
    t2 = rng.uniform(0, math.pi, n - half)
    outer = np.stack([np.cos(t1), np.sin(t1)], axis=1)
    inner = np.stack([1 - np.cos(t2), 0.5 - np.sin(t2)], axis=1)
    X = np.concatenate([outer, inner]) + rng.normal(scale=0.1, size=(n, 2))
    y = np.concatenate([np.ones(half), -np.ones(n - half)])
    return X, y


def _init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    sizes = [2, 16, 16, 1]
    params = {}
    for k in range(3):
        params[f"W{k + 1}"] = rng.uniform(-1, 1, size=(sizes[k], sizes[k + 1]))
        params[f"b{k + 1}"] = np.zeros(sizes[k + 1])
    return params


def _svm_scalar(params: dict[str, Any], X: np.ndarray, y: np.ndarray, relu) -> Any:
    """The demo's loss written with Python scalars (one value per weight)."""
    scores = []
    for row_x in X.tolist():
        h = row_x
        for k in range(3):
            W, b = params[f"W{k + 1}"], params[f"b{k + 1}"]
            out = []
            for j in range(len(b)):
                act = b[j]
                for i in range(len(h)):
                    act = act + W[i][j] * h[i]
                out.append(relu(act) if k < 2 else act)
            h = out
        scores.append(h[0])
    losses = [relu(1 + -yi * si) for yi, si in zip(y.tolist(), scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg = 0
    for k in range(3):
        for row_w in params[f"W{k + 1}"]:
            for w in row_w:
                reg = reg + w * w
        for b in params[f"b{k + 1}"]:
            reg = reg + b * b
    return data_loss + 1e-4 * reg


def s2_scalar_tracegraph(params, X, y) -> tuple[float, int]:
    start = time.perf_counter()
    tracer = tg.Tracer()
    with tracer:
        traced = {}
        for key, array in params.items():
            if array.ndim == 2:
                traced[key] = [[tracer.input(f"{key}_{i}_{j}", float(v)) for j, v in enumerate(r)]
                               for i, r in enumerate(array)]
            else:
                traced[key] = [tracer.input(f"{key}_{j}", float(v)) for j, v in enumerate(array)]
        loss = _svm_scalar(traced, X, y, tg.relu)
        tracer.finish(loss)
    return time.perf_counter() - start, len(tracer.tape)


def s2_scalar_micrograd(params, X, y) -> tuple[float, int]:
    start = time.perf_counter()
    wrapped = {}
    for key, array in params.items():
        if array.ndim == 2:
            wrapped[key] = [[MicroValue(float(v)) for v in r] for r in array]
        else:
            wrapped[key] = [MicroValue(float(v)) for v in array]
    loss = _svm_scalar(wrapped, X, y, lambda v: v.relu() if isinstance(v, MicroValue) else max(v, 0))
    loss.backward()
    elapsed = time.perf_counter() - start
    seen, stack, count = set(), [loss], 0
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        count += 1
        stack.extend(v._prev)
    return elapsed, count


def _svm_array(W1, b1, W2, b2, W3, b3, X, y):
    h1 = tg.relu(X @ W1 + b1)
    h2 = tg.relu(h1 @ W2 + b2)
    scores = (h2 @ W3 + b3)[:, 0]
    data_loss = np.mean(tg.relu(1.0 - y * scores))
    reg = np.sum(W1 * W1) + np.sum(b1 * b1) + np.sum(W2 * W2) + np.sum(b2 * b2) \
        + np.sum(W3 * W3) + np.sum(b3 * b3)
    return data_loss + 1e-4 * reg


def _svm_array_numpy(p, X, y):
    a1 = X @ p["W1"] + p["b1"]
    h1 = np.maximum(a1, 0)
    a2 = h1 @ p["W2"] + p["b2"]
    h2 = np.maximum(a2, 0)
    scores = (h2 @ p["W3"] + p["b3"])[:, 0]
    margin = 1.0 - y * scores
    loss = np.mean(np.maximum(margin, 0)) + 1e-4 * sum(np.sum(v * v) for v in p.values())
    dmargin = (margin > 0) / len(y)
    dscores = -y * dmargin
    g = {}
    d3 = dscores[:, None]
    g["W3"] = h2.T @ d3
    g["b3"] = d3.sum(0)
    d2 = (d3 @ p["W3"].T) * (a2 > 0)
    g["W2"] = h1.T @ d2
    g["b2"] = d2.sum(0)
    d1 = (d2 @ p["W2"].T) * (a1 > 0)
    g["W1"] = X.T @ d1
    g["b1"] = d1.sum(0)
    for key in g:
        g[key] = g[key] + 2e-4 * p[key]
    return loss, g


def bench_s2(repeats: int) -> None:
    rng = np.random.default_rng(0)
    X, y = _moons(100, rng)
    params = _init_params(rng)
    print("\nS2 micrograd's demo: MLP 2-16-16-1, ReLU, SVM loss on 100 moons points")
    t_tg = t_mg = None
    samples_tg, samples_mg = [], []
    for _ in range(repeats):
        gc.collect()
        samples_tg.append(s2_scalar_tracegraph(params, X, y))
        if MicroValue is not None:
            gc.collect()
            samples_mg.append(run_with_deep_stack(lambda: s2_scalar_micrograd(params, X, y)))
    t_tg = statistics.median(s[0] for s in samples_tg) / samples_tg[0][1]
    print(row("scalar version", "per node", "", "", "vs micrograd"))
    if samples_mg:
        t_mg = statistics.median(s[0] for s in samples_mg) / samples_mg[0][1]
        print(row("  micrograd", us(t_mg), f"{samples_mg[0][1]:,} nodes"))
    print(row("  tracegraph", us(t_tg), f"{samples_tg[0][1]:,} nodes", "",
              f"{t_tg / t_mg:.2f}x" if t_mg else "n/a"))
    kwargs = {**params, "X": tg.constant(X), "y": tg.constant(y)}
    times = median_times({
        "numpy": lambda: _svm_array_numpy(params, X, y),
        "tracegraph": lambda: tg.trace(_svm_array, **kwargs).grads,
    }, repeats * 10)
    print(row("array version", "trace+backward", "", "", "vs numpy"))
    print(row("  hand-written numpy", ms(times["numpy"])))
    print(row("  tracegraph", ms(times["tracegraph"]), "", "",
              f"{times['tracegraph'] / times['numpy']:.2f}x"))
    loss_np, grads_np = _svm_array_numpy(params, X, y)
    t = tg.trace(_svm_array, **kwargs)
    assert abs(t.value - loss_np) < 1e-9 and all(
        np.allclose(t.grads[k], grads_np[k]) for k in grads_np)


# --------------------------------------------------------------------------- A1 array MLP


def a1_model(W1, b1, W2, b2, W3, b3, X, Y):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    logits = h2 @ W3 + b3
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def a1_numpy(p, X, Y):
    """Hand-written forward + backward (the least work the math needs)."""
    h1 = np.tanh(X @ p["W1"] + p["b1"])
    h2 = np.tanh(h1 @ p["W2"] + p["b2"])
    logits = h2 @ p["W3"] + p["b3"]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    n = X.shape[0]
    loss = -np.sum(Y * logp) / n
    dlogits = (np.exp(logp) - Y) / n
    g = {"W3": h2.T @ dlogits, "b3": dlogits.sum(0)}
    d2 = (dlogits @ p["W3"].T) * (1 - h2 * h2)
    g["W2"] = h1.T @ d2
    g["b2"] = d2.sum(0)
    d1 = (d2 @ p["W2"].T) * (1 - h1 * h1)
    g["W1"] = X.T @ d1
    g["b1"] = d1.sum(0)
    return loss, g


def bench_a1(repeats: int, batch: int = 256) -> None:
    rng = np.random.default_rng(1)
    sizes = [784, 256, 256, 10]
    p = {}
    for k in range(3):
        p[f"W{k + 1}"] = rng.normal(scale=1 / math.sqrt(sizes[k]), size=(sizes[k], sizes[k + 1]))
        p[f"b{k + 1}"] = np.zeros(sizes[k + 1])
    X = rng.normal(size=(batch, 784))
    Y = np.eye(10)[rng.integers(0, 10, batch)]
    kwargs = {**p, "X": tg.constant(X), "Y": tg.constant(Y)}
    loss, grads = a1_numpy(p, X, Y)
    t = tg.trace(a1_model, **kwargs)
    assert abs(t.value - loss) < 1e-9
    assert all(np.allclose(t.grads[k], grads[k], atol=1e-10) for k in grads)
    times = median_times({
        "numpy": lambda: a1_numpy(p, X, Y),
        "tracegraph": lambda: tg.trace(a1_model, **kwargs).grads,
    }, repeats)
    print(f"\nA1 array MLP 784-256-256-10, batch {batch}, softmax cross-entropy")
    print(row("implementation", "trace+backward", "", "", "vs numpy"))
    print(row("  hand-written numpy", ms(times["numpy"])))
    print(row("  tracegraph", ms(times["tracegraph"]), "", "",
              f"{times['tracegraph'] / times['numpy']:.2f}x"))


# --------------------------------------------------------------------------- A2 MDS stress


def a2_stress(X, D, I, J):
    diff = X[I] - X[J]
    d = np.sqrt(np.sum(diff * diff, axis=1))
    return np.sum((D[I, J] - d) ** 2)


def a2_numpy(X, D, I, J):
    diff = X[I] - X[J]
    d = np.sqrt(np.sum(diff * diff, axis=1))
    r = D[I, J] - d
    f = np.sum(r ** 2)
    coef = (-2.0 * r / d)[:, None] * diff
    n = X.shape[0]
    grad = np.empty_like(X)
    for k in range(X.shape[1]):
        grad[:, k] = np.bincount(I, coef[:, k], n) - np.bincount(J, coef[:, k], n)
    return f, grad


def bench_a2(sizes: list[int], repeats: int) -> None:
    print("\nA2 MDS stress (seed 003): f = Σ_{m<n} (D_mn − ‖x_m − x_n‖)², gradient w.r.t. X")
    print(row("n / implementation", "trace+backward", "", "", "vs numpy"))
    for n in sizes:
        rng = np.random.default_rng(n)
        truth = rng.uniform(0, 10, size=(n, 2))
        D = np.sqrt(((truth[:, None, :] - truth[None, :, :]) ** 2).sum(-1))
        X = rng.normal(size=(n, 2))
        I, J = np.triu_indices(n, 1)
        consts = {"D": tg.constant(D), "I": tg.constant(I), "J": tg.constant(J)}
        f, grad = a2_numpy(X, D, I, J)
        t = tg.trace(a2_stress, X=X, **consts)
        assert abs(t.value - f) < 1e-8 * max(1.0, abs(f))
        assert np.allclose(t.grads["X"], grad)
        times = median_times({
            "numpy": lambda: a2_numpy(X, D, I, J),
            "tracegraph": lambda: tg.trace(a2_stress, X=X, **consts).grads,
        }, repeats * (20 if n < 100 else 1))
        print(row(f"{n:>6} hand-written numpy", ms(times["numpy"])))
        print(row(f"{n:>6} tracegraph", ms(times["tracegraph"]), "", "",
                  f"{times['tracegraph'] / times['numpy']:.2f}x"))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="S1,S2,A1,A2",
                        help="comma-separated workloads (S1,S2,A1,A2)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    args = parser.parse_args(argv)
    only = {w.strip().upper() for w in args.only.split(",")}
    repeats = 2 if args.quick else args.repeats
    random.seed(0)
    print(f"tracegraph {tg.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}, "
          f"micrograd {'installed' if MicroValue is not None else 'NOT installed'}")
    if "S1" in only:
        sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
        bench_s1(sizes, repeats, None if args.quick else 1_000_000)
    if "S2" in only:
        bench_s2(repeats)
    heaps = ["default glibc heap"]
    for heap in heaps + ["steady-state heap"]:
        if heap != heaps[0] and not steady_heap():
            print("\n(steady-state heap not available here: glibc mallopt missing)")
            break
        if {"A1", "A2"} & only:
            print(f"\n=== array workloads, {heap} ===")
        if "A1" in only:
            bench_a1(repeats * 2)
        if "A2" in only:
            bench_a2([34, 200] if args.quick else [34, 1_000], repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
