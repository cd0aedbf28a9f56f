"""np.r_ and np.c_ as people write them: joining traced arrays, numbers and ranges,
a column of ones for a bias, and a directive."""
import numpy as np

w = np.array([0.5, -1.0])
b = 0.25
X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
theta = np.r_[b, w]                      # bias first, as in a design-matrix fit
design = np.c_[np.ones(len(X)), X]
y_hat = design @ theta
y = np.array([1.0, 0.0, 2.0])
ramp = np.r_[w, 0:3, w[::-1] * 2.0]
stacked = np.r_["0,2", w, w ** 2]
loss = np.mean((y_hat - y) ** 2) + 0.1 * np.sum(ramp ** 2) + np.sum(stacked)
