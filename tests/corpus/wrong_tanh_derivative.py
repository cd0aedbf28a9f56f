"""Hand derivation with a wrong step: tanh' written as 1 + tanh^2."""
import numpy as np
x = 0.5
w = -1.2
z = w * x
h = np.tanh(z)
L = (h - 1.0) ** 2
dL_dh = 2 * (h - 1.0)
dh_dz = 1 + h ** 2
dL_dz = dL_dh * dh_dz
dL_dw = dL_dz * x
