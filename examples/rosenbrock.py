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
