"""Hand gradients accumulated with += in a loop over the samples."""
import numpy as np
xs = np.array([[1.0, 0.5], [0.2, -1.0], [-0.3, 0.8]])
ys = np.array([1.0, 0.0, 2.0])
w = np.array([0.4, 0.1])
loss = 0.0
for i in range(3):
    loss += (xs[i] @ w - ys[i]) ** 2
dloss_dw = np.zeros(2)
for i in range(3):
    dloss_dw += 2 * (xs[i] @ w - ys[i]) * xs[i]
