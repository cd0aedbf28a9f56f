"""Two-layer net with matrix claims, including one correct and one scaled wrong."""
import numpy as np
rng = np.random.default_rng(9)
X = rng.normal(size=(4, 3))
W1 = rng.normal(size=(3, 5)) * 0.5
W2 = rng.normal(size=(5, 2)) * 0.5
T = rng.normal(size=(4, 2))
H = np.maximum(0, X @ W1)
Y = H @ W2
L = 0.5 * np.sum((Y - T) ** 2) / 4
dL_dY = (Y - T) / 4
dL_dW2 = H.T @ dL_dY
dL_dH = dL_dY @ W2.T
dL_dW1 = X.T @ (dL_dH * (H > 0)) * 2
