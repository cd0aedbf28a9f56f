"""Second-order costs, as ratios measured in one run (issue 11's targets).

- ``tg.hvp`` on the A1 MLP (784-256-256-10, batch 256) against one gradient
  evaluation (``tg.trace(...).grads``): target ≤ 5×.
- A full ``tg.hessian`` for N ≤ 100 parameters against N Hessian-vector
  products: target ≤ 1× (one traced backward pass, then N reverse passes).
- first-order speed is unchanged by the nesting machinery (see bench/run.py).

    python bench/second_order_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tracegraph as tg  # noqa: E402
from run import a1_model, median_times, ms  # noqa: E402


def _a1_inputs(batch: int = 256) -> dict:
    rng = np.random.default_rng(1)
    sizes = [784, 256, 256, 10]
    p = {}
    for k in range(3):
        p[f"W{k + 1}"] = rng.normal(scale=1 / math.sqrt(sizes[k]), size=(sizes[k], sizes[k + 1]))
        p[f"b{k + 1}"] = np.zeros(sizes[k + 1])
    X = rng.normal(size=(batch, 784))
    Y = np.eye(10)[rng.integers(0, 10, batch)]
    return {**p, "X": tg.constant(X), "Y": tg.constant(Y)}


def bench_hvp(repeats: int) -> None:
    inputs = _a1_inputs()
    rng = np.random.default_rng(2)
    v = {k: rng.normal(size=np.shape(value)) for k, value in inputs.items()
         if not tg.core.is_constant(value)}
    times = median_times({
        "gradient": lambda: tg.trace(a1_model, **inputs).grads,
        "hvp": lambda: tg.hvp(a1_model, v, **inputs),
    }, repeats)
    print("A1 MLP 784-256-256-10, batch 256")
    print(f"  one gradient (trace + backward)  {ms(times['gradient'])}")
    print(f"  tg.hvp (no Hessian formed)       {ms(times['hvp'])}   "
          f"{times['hvp'] / times['gradient']:.2f}x the gradient (target <= 5x)")


def _small_net(w: np.ndarray, x: np.ndarray) -> float:
    hidden = np.tanh(x @ w[:40].reshape(4, 10))
    return np.sum(np.tanh(hidden @ w[40:].reshape(10, -1)) ** 2)


def bench_hessian(repeats: int, n: int = 100) -> None:
    rng = np.random.default_rng(3)
    w = rng.normal(scale=0.5, size=n)
    x = tg.constant(rng.normal(size=(8, 4)))
    direction = {"w": rng.normal(size=n)}
    h = tg.hessian(_small_net, w=w, x=x)
    assert np.allclose(h.matrix @ direction["w"], tg.hvp(_small_net, direction, w=w, x=x)["w"])
    times = median_times({
        "hvp": lambda: tg.hvp(_small_net, direction, w=w, x=x),
        "hessian": lambda: tg.hessian(_small_net, w=w, x=x),
    }, repeats)
    print(f"small tanh network, N = {n} parameters")
    print(f"  tg.hvp                            {ms(times['hvp'])}")
    print(f"  tg.hessian (N×N)                  {ms(times['hessian'])}   "
          f"{times['hessian'] / (n * times['hvp']):.2f}x N hvps (target <= 1x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"tracegraph {tg.__version__}, numpy {np.__version__}")
    bench_hvp(args.repeats)
    bench_hessian(args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
