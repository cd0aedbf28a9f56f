"""Seed 000: a quadratic loss of two coefficients, and a few steps of gradient descent
written out by hand: a, b and the loss are reassigned at every step."""
a = 3.0
b = -1.0
lr = 0.1
loss = (a - 1.0) ** 2 + 2.0 * (b + 0.5) ** 2
for step in range(3):
    dloss_da = 2.0 * (a - 1.0)
    dloss_db = 4.0 * (b + 0.5)
    a = a - lr * dloss_da
    b = b - lr * dloss_db
    loss = (a - 1.0) ** 2 + 2.0 * (b + 0.5) ** 2
dloss_da = 2.0 * (a - 1.0)
