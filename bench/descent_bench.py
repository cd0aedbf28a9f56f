"""Benchmarks of one gradient-descent step (tg.descend), as ratios measured in this run.

    python bench/descent_bench.py            # A2 MDS step n = 34, A1 MLP step
    python bench/descent_bench.py --quick    # fewer repeats

One step is: the loss and its gradient at the current point, then the update
θ ← θ − lr·g.  Compared, interleaved inside each repeat, medians reported:

- ``hand-written numpy``: forward + backward written by hand (the least work the math
  needs), then the update;
- ``trace every step``: ``tg.trace`` at the new point, then the update;
- ``tg.descend step``: what ``tg.descend`` does per step: replay the record with the new
  values, one backward pass over it, the update (the loop's own bookkeeping included:
  measured as a whole run of ``STEPS`` steps divided by ``STEPS``, against the same number
  of numpy steps).

Workloads (shared/bench/WORKLOADS.md): A2, the MDS stress of seed 003 for n = 34, and A1,
the 784-256-256-10 tanh MLP with softmax cross-entropy on a batch of 256.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracegraph as tg  # noqa: E402
from run import a1_model, a1_numpy, a2_numpy, a2_stress, median_times  # noqa: E402

LR = 1e-3


def report(title: str, times: dict[str, float], steps: int) -> None:
    base = times["hand-written numpy"]
    print(f"\n{title}")
    print(f"  {'implementation':<22} {'per step':>12} {'vs numpy':>10}")
    for name, seconds in times.items():
        print(f"  {name:<22} {seconds / steps * 1e6:>10.1f}µs {seconds / base:>9.2f}x")


def mds_step(repeats: int, steps: int = 200) -> None:
    n = 34
    rng = np.random.default_rng(n)
    truth = rng.uniform(0, 10, size=(n, 2))
    D = np.sqrt(((truth[:, None, :] - truth[None, :, :]) ** 2).sum(-1))
    X0 = rng.normal(size=(n, 2))
    I, J = np.triu_indices(n, 1)
    consts = {"D": tg.constant(D), "I": tg.constant(I), "J": tg.constant(J)}

    def numpy_run():
        X = X0
        for _ in range(steps):
            _, g = a2_numpy(X, D, I, J)
            X = X - LR * g
        return X

    def trace_run():
        X = X0
        for _ in range(steps):
            X = X - LR * tg.trace(a2_stress, X=X, **consts).grads["X"]
        return X

    def descend_run():
        return tg.descend(a2_stress, X=X0, lr=LR, steps=steps - 1, **consts).final["X"]

    # Same numbers first: steps − 1 updates of descend = the first steps − 1 numpy updates.
    reference = X0
    for _ in range(steps - 1):
        reference = reference - LR * a2_numpy(reference, D, I, J)[1]
    np.testing.assert_allclose(descend_run(), reference, rtol=1e-10)
    times = median_times({"hand-written numpy": numpy_run, "trace every step": trace_run,
                          "tg.descend step": descend_run}, repeats)
    report(f"A2 MDS stress, n = {n}: one gradient-descent step ({steps}-step runs)", times,
           steps)


def mlp_step(repeats: int, steps: int = 20, batch: int = 256) -> None:
    rng = np.random.default_rng(1)
    sizes = [784, 256, 256, 10]
    p0 = {}
    for k in range(3):
        p0[f"W{k + 1}"] = rng.normal(scale=1 / np.sqrt(sizes[k]), size=(sizes[k], sizes[k + 1]))
        p0[f"b{k + 1}"] = np.zeros(sizes[k + 1])
    X = rng.normal(size=(batch, 784))
    Y = np.eye(10)[rng.integers(0, 10, batch)]
    data = {"X": tg.constant(X), "Y": tg.constant(Y)}

    def numpy_run():
        p = dict(p0)
        for _ in range(steps):
            _, g = a1_numpy(p, X, Y)
            p = {k: p[k] - LR * g[k] for k in p}
        return p

    def trace_run():
        p = dict(p0)
        for _ in range(steps):
            grads = tg.trace(a1_model, **p, **data).grads
            p = {k: p[k] - LR * grads[k] for k in p}
        return p

    def descend_run():
        return tg.descend(a1_model, lr=LR, steps=steps - 1, **p0, **data).final

    final = descend_run()
    p = dict(p0)
    for _ in range(steps - 1):
        g = a1_numpy(p, X, Y)[1]
        p = {k: p[k] - LR * g[k] for k in p}
    for k in p:
        np.testing.assert_allclose(final[k], p[k], rtol=1e-9, atol=1e-12)
    times = median_times({"hand-written numpy": numpy_run, "trace every step": trace_run,
                          "tg.descend step": descend_run}, repeats)
    report(f"A1 MLP 784-256-256-10, batch {batch}: one gradient-descent step "
           f"({steps}-step runs)", times, steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    print(f"tracegraph {tg.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    mds_step(repeats)
    mlp_step(max(3, repeats // 3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
