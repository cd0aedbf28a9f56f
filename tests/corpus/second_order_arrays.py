"""Second derivatives of array functions claimed by hand: a Hessian block and a mixed one."""
import numpy as np

w = np.array([0.3, -0.5, 1.2])
b = 0.4
L = np.sum(w ** 3) * b + np.sum(np.tanh(w)) * b ** 2

d2L_dw2 = np.diag(6 * w * b - 2 * np.tanh(w) * (1 - np.tanh(w) ** 2) * b ** 2)
d2L_dw_db = 3 * w ** 2 + 2 * b * (1 - np.tanh(w) ** 2)
d2L_db2 = 2 * np.sum(np.tanh(w))
