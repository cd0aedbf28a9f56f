"""Logistic regression with the cross-entropy loss (seeds 001 and 004).

A linear score z = X·w + b, squashed into a probability p = sigmoid(z), and the
binary cross-entropy −mean(y·ln p + (1 − y)·ln(1 − p)) written out, so each step
is a node.  The classic result shows in the diagram: dLoss/dz = (p − y)/N.

    tracegraph render examples/logistic_regression.py
    tracegraph explain examples/logistic_regression.py --wrt w,b
"""

import numpy as np

from tracegraph import sigmoid

# Four examples with two features each; the labels are integers, so they are
# data (a constant), not an input with a gradient.
X = np.array([[0.5, 1.5], [1.0, -0.5], [-1.5, 0.3], [2.0, 1.0]])
y = np.array([1, 0, 0, 1])
w = np.array([0.2, -0.4])
b = 0.1

z = X @ w + b
p = sigmoid(z)
Loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

if __name__ == "__main__":
    print(f"p = {np.round(p, 4)}, Loss = {Loss:.4f}")
