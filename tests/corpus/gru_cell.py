"""One GRU cell step, then a squared-norm loss."""
import numpy as np

def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))

rng = np.random.default_rng(7)
H, D = 3, 2
x = rng.normal(size=D)
h = rng.normal(size=H) * 0.1
Wz = rng.normal(size=(H, D)); Uz = rng.normal(size=(H, H))
Wr = rng.normal(size=(H, D)); Ur = rng.normal(size=(H, H))
Wh = rng.normal(size=(H, D)); Uh = rng.normal(size=(H, H))

z = sigmoid(Wz @ x + Uz @ h)
r = sigmoid(Wr @ x + Ur @ h)
h_tilde = np.tanh(Wh @ x + Uh @ (r * h))
h_new = (1 - z) * h + z * h_tilde
loss = np.sum(h_new ** 2)
