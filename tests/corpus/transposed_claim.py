"""Array claims, one transposed by mistake."""
import numpy as np
W = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 1.0]])
x = np.array([0.3, -0.2, 0.8])
y = W @ x
L = np.sum(y ** 2)
dL_dy = 2 * y
dL_dW = np.outer(x, dL_dy)
dL_dx = W.T @ dL_dy
