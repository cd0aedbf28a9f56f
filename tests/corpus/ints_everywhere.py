"""Ints where Python takes ints: an index, a count, np.arange, a shape, argmax; and one int
that meets traced values in arithmetic (the divisor), which makes it an input."""
import numpy as np

x = np.array([0.5, 3.0, -1.0, 2.0])
k = 1
n = 4
top = x[k] * 2
ramp = np.arange(n) * x
peak = x[np.argmax(x)]
grid = np.zeros((n, 2)) + x.reshape(n, 1)
total = 0.0
for i in range(n):
    total = total + x[i] * i
mean = np.sum(ramp) / n
loss = top + mean + peak + np.sum(grid) + total
dloss_dtop = 1.0
