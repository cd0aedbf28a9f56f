"""A node used twice: c = a * b with b = sin(a). The student claims the partial of the
edge c <- a for the total dc/da, and a dL/da that follows the route through b only."""
import numpy as np
a = 0.7
b = np.sin(a)
c = a * b
L = c ** 2
dL_dc = 2 * c
dc_db = a
db_da = np.cos(a)
dc_da = b
dL_da = dL_dc * dc_db * db_da
