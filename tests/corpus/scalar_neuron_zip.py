"""A scalar MLP neuron written like micrograd: list of weights, zip, sum with start."""
import math
ws = [0.5, -0.3, 0.8]
xs = [1.0, 2.0, -1.0]
b = 0.1
act = sum((wi * xi for wi, xi in zip(ws, xs)), b)
out = math.tanh(act)
loss = (out - 1.0) ** 2
dloss_db = 2 * (out - 1.0) * (1 - out ** 2)
