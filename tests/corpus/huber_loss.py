"""Huber loss with np.where and np.abs, mean over a batch."""
import numpy as np
pred = np.array([0.2, 1.5, -2.0, 0.9])
target = np.array([0.0, 0.0, 0.0, 1.0])
delta = 1.0
r = pred - target
a = np.abs(r)
quad = 0.5 * r ** 2
lin = delta * (a - 0.5 * delta)
loss = np.mean(np.where(a <= delta, quad, lin))
dloss_dpred = np.where(a <= delta, r, delta * np.sign(r)) / len(r)
