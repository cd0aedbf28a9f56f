"""The issue's np.moveaxis example (it once reported 5 where Python gives 9) and
np.hstack of one array."""
import numpy as np
x = np.arange(6.0).reshape(2, 3)
y = np.moveaxis(x, 0, -1)
z = np.hstack([x[0]])
loss = np.sum(y[0] ** 2) + np.sum(z)
