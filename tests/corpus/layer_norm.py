"""Layer normalisation over the last axis, then a weighted sum as the loss."""
import numpy as np
import tracegraph as tg

rng = np.random.default_rng(2)
x = rng.normal(size=(4, 6))
gamma = 1.0 + 0.1 * rng.normal(size=6)
beta = 0.1 * rng.normal(size=6)
eps = tg.constant(1e-5)
w_out = rng.normal(size=(4, 6))

mu = x.mean(axis=-1, keepdims=True)
var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
xhat = (x - mu) / np.sqrt(var + eps)
y = gamma * xhat + beta
loss = np.sum(y * w_out)

dloss_dy = w_out
dloss_dbeta = w_out.sum(axis=0)
dloss_dgamma = (w_out * xhat).sum(axis=0)
