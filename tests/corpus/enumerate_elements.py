"""Iterating over a traced array's elements with enumerate, a conditional expression."""
import numpy as np
v = np.array([0.5, -1.0, 2.0, -0.25])
acc = 0.0
for i, vi in enumerate(v, start=1):
    acc = acc + (vi * i if vi > 0 else 0.1 * vi)
m = max(v)
loss = acc * m
