"""Rosenbrock's banana valley (seed 001): easy to find, slow to follow to its minimum at (1, 1).

    f(x, y) = (1 − x)² + 100·(y − x²)²

    tracegraph descend examples/rosenbrock.py --optimizer adam --lr 0.01 --steps 5000 -o rosenbrock.png
    tracegraph descend examples/rosenbrock.py --lr 0.0001,0.001,0.004 --steps 2000 -o sweep.png
    tracegraph descend examples/rosenbrock.py --compare gd,momentum,adam,armijo,nelder-mead --lr 0.001 --budget 5000
"""

x = -1.0
y = 1.0

valley = y - x**2
f = (1.0 - x) ** 2 + 100.0 * valley**2

if __name__ == "__main__":
    import tracegraph as tg

    run = tg.descend(lambda x, y: (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2, x=x, y=y,
                     optimizer="adam", lr=0.01, steps=5000)
    print(f"{run.label}: f {run.losses[0]:.4g} -> {run.loss:.3g} at x = {run.final['x']:.5f}, "
          f"y = {run.final['y']:.5f} ({run.steps} steps, {run.stopped})")
