"""List comprehensions of traced scalars, sum() and max()/min()/abs()."""
import numpy as np

a = 0.3
b = -1.2
c = 2.0
vals = [a, b, c]
sq = [v * v for v in vals]
total = sum(sq)
biggest = max(vals)
smallest = min(sq)
mag = abs(b)
loss = total + biggest * smallest + mag
dloss_da = 2 * a + biggest * 2 * a
