"""float32 weights and data: numpy keeps float32 with Python floats."""
import numpy as np
x = np.array([0.1, 0.2, 0.7], dtype=np.float32)
w = np.array([0.3, -0.6, 1.1], dtype=np.float32)
z = x * w * 0.3 + 1e-3
s = np.float32(2.5) * np.sum(z)
loss = np.tanh(s) ** 2
