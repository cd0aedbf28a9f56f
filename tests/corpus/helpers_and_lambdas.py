"""Helpers and lambdas defined in the file."""
import numpy as np

square = lambda v: v * v
softplus = lambda v: np.log1p(np.exp(v))

def affine(v, a, c):
    return a * v + c

def chain(v, fs):
    for f in fs:
        v = f(v)
    return v

x = 0.7
a = 1.5
c = -0.2
u = affine(x, a, c)
v = chain(u, [square, softplus, np.sin])
loss = v + square(a)
dloss_da = 2 * a + np.cos(softplus(u * u)) * (np.exp(u * u) / (1 + np.exp(u * u))) * 2 * u * x
