"""Negative indices, steps, ellipsis, newaxis, boolean masks on traced arrays."""
import numpy as np
x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
a = x[-1, ::-1]
b = x[..., 1]
c = x[:, np.newaxis, :2]
m = x[x > 0]
d = x.flatten()[1::2]
loss = np.sum(a * b[0]) + np.sum(c ** 2) + np.sum(m) + np.prod(d)
