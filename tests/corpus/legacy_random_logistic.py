"""The legacy np.random API with a seed."""
import numpy as np
np.random.seed(0)
X = np.random.randn(5, 3)
w = np.random.randn(3) * 0.1
b = np.random.rand()
y = (np.random.rand(5) > 0.5).astype(float)
z = X.dot(w) + b
p = 1 / (1 + np.exp(-z))
loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
dloss_dw = X.T.dot(p - y) / 5
dloss_db = np.mean(p - y)
