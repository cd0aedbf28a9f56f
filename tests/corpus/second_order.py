"""Second derivatives claimed by hand: f(x, y) = x³·y + sin(x·y)."""
import numpy as np

x = 0.7
y = -1.2
f = x ** 3 * y + np.sin(x * y)

df_dx = 3 * x ** 2 * y + y * np.cos(x * y)
d2f_dx2 = 6 * x * y - y ** 2 * np.sin(x * y)
d2f_dx_dy = 3 * x ** 2 + np.cos(x * y) - x * y * np.sin(x * y)
d2f_dy2 = -x ** 2 * np.sin(x * y)
