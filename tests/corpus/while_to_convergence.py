"""A while loop to convergence: Newton's method for sqrt(a)."""
a = 2.0
g = 1.0
it = 0
while abs(g * g - a) > 1e-12 and it < 50:
    g = 0.5 * (g + a / g)
    it += 1
root = g
loss = root * 3.0
dloss_da = 1.5 / a ** 0.5
