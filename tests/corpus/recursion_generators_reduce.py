"""A recursive helper, a generator, map and functools.reduce."""
import functools
import operator
import numpy as np

def power(v, n):
    if n == 0:
        return 1.0
    return v * power(v, n - 1)

def running(vals):
    total = 0.0
    for v in vals:
        total = total + v
        yield total

x = 1.3
y = -0.4
p = power(x, 3)
parts = list(running([x, y, p]))
prod = functools.reduce(operator.mul, [x, y, 2.0])
sq = list(map(np.square, [x, y]))
loss = sum(parts) + prod + sq[1]
dloss_dy = 2 + x * 2.0 + 2 * y
