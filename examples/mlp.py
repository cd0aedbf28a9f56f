"""A small batched MLP with a softmax cross-entropy loss (seeds 001 and 004).

A batch of 4 examples (3 features) goes through a hidden ReLU layer of 5 units
and an output layer of 3 classes.  `dense` is an ordinary function: inside it
the result is called `out`, and the top-level names (h1, logits) win.

    tracegraph render examples/mlp.py
    tracegraph explain examples/mlp.py --wrt W2,b2
"""

import numpy as np

from tracegraph import relu, softmax_cross_entropy

rng = np.random.default_rng(0)

X = rng.normal(size=(4, 3))
labels = np.array([0, 2, 1, 2])
W1 = rng.normal(scale=0.5, size=(3, 5))
b1 = np.zeros(5)
W2 = rng.normal(scale=0.5, size=(5, 3))
b2 = np.zeros(3)


def dense(x, W, b):
    out = x @ W + b
    return out


h1 = relu(dense(X, W1, b1))
logits = dense(h1, W2, b2)
loss = softmax_cross_entropy(logits, labels)

if __name__ == "__main__":
    print(f"loss = {loss:.4f} (ln 3 = {np.log(3):.4f} for a uniform guess)")
