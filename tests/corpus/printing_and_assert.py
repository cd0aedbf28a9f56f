"""print and f-strings of traced values, assert on the loss."""
import numpy as np

w = 0.6
x = np.array([1.0, 2.0, 3.0])
pred = w * x
err = pred - np.array([0.5, 1.5, 2.5])
loss = np.mean(err ** 2)
print(f"loss = {loss:.4f}", "w =", w)
print("pred:", pred)
assert loss > 0, "loss must be positive"
dloss_dw = np.mean(2 * err * x)
