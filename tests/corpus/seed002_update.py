"""Seed 002: one step of gradient descent on the neuron's loss; the update rule uses the
hand-derived claim, so the loss stays the output."""
from tracegraph import sigmoid

x1 = 1.0
x2 = 2.0
x3 = 0.5
w1 = 0.5
w2 = -0.3
w3 = 0.8
gold = 1.0

G = w1 * x1 + w2 * x2 + w3 * x3
S = sigmoid(G)
Loss = (gold - S) ** 2

dLoss_dS = -2 * (gold - S)
dS_dG = S * (1 - S)
dLoss_dw2 = dLoss_dS * dS_dG * x2
w2_new = w2 - 0.001 * dLoss_dw2
