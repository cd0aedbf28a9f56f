"""A sigmoid neuron backpropagated by hand, staged the way CS231n's notes do it.

The forward pass, then the backward pass written as plain values named after what they
are the gradient of (ddot, dx, dw): the last line is a hand-written derivative, so the file
declares which value is the function.
"""
import numpy as np

w = np.array([2.0, -3.0, -3.0])
x = np.array([-1.0, -2.0])

dot = w[0] * x[0] + w[1] * x[1] + w[2]
f = 1.0 / (1 + np.exp(-dot))

ddot = (1 - f) * f
dx = np.array([w[0] * ddot, w[1] * ddot])
dw = np.array([x[0] * ddot, x[1] * ddot, 1.0 * ddot])

df_dw = dw
df_dx = dx
output = "f"
