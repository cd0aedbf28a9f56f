"""A small class holding parameters, with a forward method."""
import numpy as np

class Linear:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, x):
        return x @ self.W + self.b

    def l2(self):
        return np.sum(self.W ** 2)

rng = np.random.default_rng(5)
W1 = rng.normal(size=(3, 4)) * 0.5
b1 = np.zeros(4)
W2 = rng.normal(size=(4, 1)) * 0.5
b2 = np.zeros(1)
X = rng.normal(size=(5, 3))
Y = rng.normal(size=(5, 1))

l1 = Linear(W1, b1)
l2 = Linear(W2, b2)
h = np.tanh(l1(X))
pred = l2(h)
loss = np.mean((pred - Y) ** 2) + 0.01 * (l1.l2() + l2.l2())
