"""try/except around numpy; errstate; a log that may fail."""
import numpy as np
import math

x = 4.0
w = 0.3
try:
    v = math.sqrt(x) * w
except ValueError:
    v = 0.0
with np.errstate(divide="ignore"):
    lg = np.log(np.array([x, w]))
loss = v + np.sum(lg)
dloss_dx = w / (2 * math.sqrt(x)) + 1 / x
