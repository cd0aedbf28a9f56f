"""if x > 0: branches on traced values."""
import numpy as np

x = -0.4
y = 1.3
if x > 0:
    a = x * y
else:
    a = -x * y ** 2
if a > y:
    b = a - y
elif a < -y:
    b = a + y
else:
    b = a * 0.5
loss = b ** 2 + np.exp(a)
