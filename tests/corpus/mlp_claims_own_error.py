"""A two-layer net by hand: tanh' written as 1 + h**2, and a stray factor 2 in dL/dW1
on top of it."""
import numpy as np
x = np.array([0.5, -1.0, 2.0])
W1 = np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
W2 = np.array([0.7, -0.8])
z = W1 @ x
h = np.tanh(z)
out = W2 @ h
L = 0.5 * (out - 1.0) ** 2
dL_dout = out - 1.0
dL_dh = dL_dout * W2
dh_dz = 1 + h ** 2
dL_dz = dL_dh * dh_dz
dL_dW1 = 2 * np.outer(dL_dz, x)
dL_dW2 = dL_dout * h
