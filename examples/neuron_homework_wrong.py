"""Seed 002 homework, with one mistake: sigmoid' written as S·(1 + S).

This is examples/neuron_homework.py with a single wrong step, a typical
slip: the derivative of the sigmoid is written
S·(1 + S) instead of S·(1 − S).  Every claim built on it (dLoss_dG, then
dLoss_dA ... dLoss_dx3) is wrong too, but only one step is the mistake:

    tracegraph check examples/neuron_homework_wrong.py
        exit code 1; names dS_dG as the first wrong step, with the claimed
        and the true value, and traces each wrong dLoss_d... back to it
    tracegraph check examples/neuron_homework_wrong.py --render wrong.svg
        the diagram with the edge G → S marked wrong
"""

from tracegraph import sigmoid

# The inputs: one example (x1, x2, x3), its gold answer, and the weights.
x1 = 1.0
x2 = 2.0
x3 = 0.5
w1 = 0.5
w2 = -0.3
w3 = 0.8
gold = 1.0

# The forward pass.
A = w1 * x1
B = w2 * x2
C = w3 * x3
G = A + B + C
S = sigmoid(G)
Loss = (gold - S) ** 2

# Each student's function: its local derivatives.
dA_dw1 = x1                 # d(w·a)/dw = a
dA_dx1 = w1                 # d(w·a)/da = w
dB_dw2 = x2
dB_dx2 = w2
dC_dw3 = x3
dC_dx3 = w3
dG_dA = 1                   # d(a + b + c)/da = 1
dG_dB = 1
dG_dC = 1
dS_dG = S * (1 + S)         # the mistake: sigmoid'(G) is S·(1 − S)
dLoss_dS = -2 * (gold - S)  # d(gold − S)²/dS = 2·(gold − S)·(−1)

# Together: the derivative of the loss with respect to every element (chain rule).
dLoss_dG = dLoss_dS * dS_dG
dLoss_dA = dLoss_dG * dG_dA
dLoss_dB = dLoss_dG * dG_dB
dLoss_dC = dLoss_dG * dG_dC
dLoss_dw1 = dLoss_dA * dA_dw1
dLoss_dx1 = dLoss_dA * dA_dx1
dLoss_dw2 = dLoss_dB * dB_dw2
dLoss_dx2 = dLoss_dB * dB_dx2
dLoss_dw3 = dLoss_dC * dC_dw3
dLoss_dx3 = dLoss_dC * dC_dx3

if __name__ == "__main__":
    print(f"Loss = {Loss:.4f}; dLoss/dw1 = {dLoss_dw1:.4f} (by hand)")
    print("find the wrong step: tracegraph check examples/neuron_homework_wrong.py")
