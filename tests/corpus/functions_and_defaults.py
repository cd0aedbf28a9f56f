"""Helpers with their own names inside and a default argument (a constant)."""
import numpy as np


def layer(v, scale=2.0):
    pre = v * scale
    out = np.tanh(pre)
    return out


x = 0.3
h1 = layer(x)
h2 = layer(h1, 0.5)
loss = h2 * h2 + h1
dloss_dh2 = 2 * h2
