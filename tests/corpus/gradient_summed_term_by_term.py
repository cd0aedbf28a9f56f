"""Hand gradients accumulated with += over the samples (scalar)."""
xs = [1.0, 0.2, -0.3]
ys = [1.0, 0.0, 2.0]
w = 0.4
loss = 0.0
for i in range(3):
    loss += (xs[i] * w - ys[i]) ** 2
dloss_dw = 0.0
for i in range(3):
    dloss_dw += 2 * (xs[i] * w - ys[i]) * xs[i]
