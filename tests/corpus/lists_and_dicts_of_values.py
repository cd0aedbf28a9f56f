"""A list of traced values appended and popped; dict of losses."""
import numpy as np
x = 0.8
hist = []
h = x
for k in range(4):
    h = np.cos(h)
    hist.append(h)
last = hist.pop()
losses = {"a": last ** 2, "b": sum(hist)}
loss = losses["a"] + 0.5 * losses["b"]
