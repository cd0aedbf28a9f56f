"""Annotated assignments and augmented ops on scalars; divmod; pow with ints."""
import numpy as np
x: float = 1.5
k: int = 3
y: float = x ** k
y -= 2 * x
q, rem = divmod(y, 1.0)
z = pow(x, 2) + rem
loss = z / k
