"""relu written many ways on scalars."""
import numpy as np
x = 0.7
y = -0.3
r1 = x if x > 0 else 0.0
r2 = max(0.0, y)
r3 = (y > 0) * y
r4 = np.maximum(x, 0)
r5 = x * (x > 0)
loss = r1 + r2 + r3 + r4 + r5 + x * y
dloss_dx = 3.0 + y
dloss_dy = x
