"""Logistic regression with a clipped probability and np.where for the two classes."""
import numpy as np

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.2], [2.0, 1.0]])
y = np.array([1, 0, 0, 1])
w = np.array([0.4, -0.6])
b = 0.1

z = X @ w + b
p = 1.0 / (1.0 + np.exp(-z))
p = np.clip(p, 1e-7, 1 - 1e-7)
ll = np.where(y == 1, np.log(p), np.log(1 - p))
loss = -np.mean(ll)

dloss_dz = (p - y) / len(y)
dloss_dw = X.T @ dloss_dz
dloss_db = np.sum(dloss_dz)
