"""The expression from micrograd's README, written with plain floats and tracegraph's relu;
its published gradients are the claims at the end (the last g and the first a, b)."""
from tracegraph import relu

a = -4.0
b = 2.0
c = a + b
d = a * b + b ** 3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + relu(b + a)
d += 3 * d + relu(b - a)
e = c - d
f = e ** 2
g = f / 2.0
g += 10.0 / f

dg_da = 138.8338
dg_db = 645.5773
