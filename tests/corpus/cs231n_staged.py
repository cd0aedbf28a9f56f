"""f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²), staged into small values, with the backward
pass written out by hand and accumulated with += (each += is a new version of dx, dy)."""
import numpy as np

x = 3.0
y = -4.0

sigy = 1.0 / (1 + np.exp(-y))
num = x + sigy
sigx = 1.0 / (1 + np.exp(-x))
xpy = x + y
xpysqr = xpy ** 2
den = sigx + xpysqr
invden = 1.0 / den
f = num * invden

dnum = invden
dinvden = num
dden = (-1.0 / (den ** 2)) * dinvden
dsigx = (1) * dden
dxpysqr = (1) * dden
dxpy = (2 * xpy) * dxpysqr
dx = (1) * dxpy
dy = (1) * dxpy
dx += ((1 - sigx) * sigx) * dsigx
dx += (1) * dnum
dsigy = (1) * dnum
dy += ((1 - sigy) * sigy) * dsigy

df_dx = dx
df_dy = dy
df_dnum = dnum
df_dden = dden
output = "f"
