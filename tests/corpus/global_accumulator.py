"""A module-level accumulator updated through global in a function."""
import numpy as np

penalty = 0.0

def layer(v, w):
    global penalty
    penalty = penalty + w ** 2
    return np.tanh(v * w)

x = 0.5
w1 = 0.8
w2 = -1.1
h = layer(layer(x, w1), w2)
loss = h + 0.1 * penalty
