"""Seed 004: a linear layer σ(Ax + b) and its Jacobian.

The total derivative of a vector function is a matrix: row i holds the
gradient of output i.  For y = σ(Ax + b) the chain rule gives
∂y/∂x = diag(σ'(z))·A with σ'(z) = y·(1 − y) — written below as a claim that
``tracegraph check`` grades against the true Jacobian.

    tracegraph check examples/linear_layer.py
    tracegraph render examples/linear_layer.py --show values
    python examples/linear_layer.py
"""

import numpy as np

from tracegraph import sigmoid

A = np.array([[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]])
x = np.array([1.0, 2.0, -1.0])
b = np.array([0.1, -0.2])

z = A @ x + b
y = sigmoid(z)

# The Jacobian by the chain rule: row i is σ'(z_i) times row i of A.
dy_dx = (y * (1 - y))[:, np.newaxis] * A

if __name__ == "__main__":
    print("y =", y)
    print("dy/dx =", dy_dx, sep="\n")
