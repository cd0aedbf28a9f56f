"""Ints as axes, shapes and slice bounds of numpy calls; none of them is an input."""
import numpy as np

x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
k = 1
n = 3
m = 2
a = np.sum(x, axis=k)
b = x.reshape(n, -1)
e = x[:, :n]
f = np.concatenate([x, x], axis=k)
g = np.ones(n) * x
i2 = x.sum(k)
l = np.power(x, m)
p = np.linspace(0, 1, n) * x
q = np.eye(n) @ x.T
r = x.max(axis=k)
s = np.stack([x, x], axis=k)
t = np.expand_dims(x, k)
u = np.swapaxes(x, 0, k)
v = np.transpose(x, (k, 0))
y = x.mean(axis=k, keepdims=True)
loss = (np.sum(a) + np.sum(b ** 2) + np.sum(e * f[:, :n]) + np.sum(g) + np.sum(i2 * r)
        + np.sum(l) + np.sum(p) + np.sum(q ** 2) + np.sum(s) + np.sum(t * t) + np.sum(u)
        + np.sum(v ** 3) + np.sum(y))
