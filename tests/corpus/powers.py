"""Powers: x**0.5, x**-1, 2**x, pow with negative base int exponent."""
import numpy as np
x = 2.0
y = -1.5
p1 = x ** 0.5
p2 = x ** -1
p3 = 2 ** x
p4 = y ** 3
p5 = np.power(x, y)
p6 = abs(y) ** x
loss = p1 + p2 + p3 + p4 + p5 + p6
