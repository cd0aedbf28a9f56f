"""The optimisers of seed 001 on two classic test functions: which converge, which oscillate.

    python examples/optimizers.py            # the two tables, and optimizers.png
    tracegraph descend examples/optimizers.py --compare gd,momentum,adam,armijo --lr 0.035
    tracegraph render examples/optimizers.py # the quadratic's chain rule at the start

- an ill-conditioned quadratic, f = ½(x² + 50·y²): one direction 50 times steeper than the
  other, so a step size safe for the steep one crawls along the flat one;
- Rosenbrock's valley, f = (1 − x)² + 100·(y − x²)²: easy to fall into, slow to follow.

Every optimiser starts from the same point with the same learning rate (Armijo starts each
step there and halves it until the loss decreases enough).  "oscillates" means the loss
went up in more than 5 % of the steps, or the update turned back (pointed against the
previous one) in more than 10 % of them.
"""

import numpy as np

# For the command line: the quadratic at the optimisers' starting point.
inputs = {"x": 1.0, "y": 1.0}
function = "quadratic"


def quadratic(x, y):
    return 0.5 * (x * x + 50.0 * y * y)


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def behaviour(run, converged=1e-8):
    """converged / crawls / diverged, and whether it oscillates on the way."""
    if run.stopped.startswith("diverged"):
        return run.stopped
    path = np.column_stack([run.params["x"], run.params["y"]])
    updates = np.diff(path, axis=0)
    turns = np.mean(np.sum(updates[1:] * updates[:-1], axis=1) < 0) if run.steps > 1 else 0
    rises = np.mean(np.diff(run.losses) > 0) if run.steps else 0
    verdict = "converged" if run.loss < converged else "crawls"
    return verdict + (", oscillates" if rises > 0.05 or turns > 0.1 else "")


def compare_optimizers(fn, start, lr, steps=1000):
    import tracegraph as tg

    runs = []
    print(f"{fn.__name__}: start {start}, lr {lr}, at most {steps} steps")
    print(f"  {'optimizer':<10} {'steps':>6} {'final loss':>12}  behaviour")
    for optimizer in ("gd", "momentum", "nesterov", "rmsprop", "adam", "armijo"):
        run = tg.descend(fn, optimizer=optimizer, lr=lr, steps=steps, tol=1e-12, **start)
        runs.append(run)
        print(f"  {optimizer:<10} {run.steps:>6} {run.loss:>12.3e}  {behaviour(run)}")
    return runs


if __name__ == "__main__":
    import sys

    from tracegraph.descent.plots import plot_runs

    picture = sys.argv[1] if len(sys.argv) > 1 else "optimizers.png"
    flat = compare_optimizers(quadratic, {"x": 1.0, "y": 1.0}, lr=0.035)
    print()
    valley = compare_optimizers(rosenbrock, {"x": -1.0, "y": 1.0}, lr=0.002, steps=3000)
    stem = picture.rsplit(".", 1)
    plot_runs(flat, f"{stem[0]}_quadratic.{stem[1]}", title="ill-conditioned quadratic")
    plot_runs(valley, f"{stem[0]}_rosenbrock.{stem[1]}", title="Rosenbrock's valley")
    print(f"\nwrote {stem[0]}_quadratic.{stem[1]} and {stem[0]}_rosenbrock.{stem[1]}")
