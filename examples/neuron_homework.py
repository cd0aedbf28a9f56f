"""Seed 002 homework: derive every derivative of the neuron by hand, then let tracegraph grade it.

The neuron and its loss, split into small named functions as in the lesson:

    A = w1·x1    B = w2·x2    C = w3·x3    G = A + B + C    S = sigmoid(G)
    Loss = (gold − S)²

Below the forward pass, every name of the form dY_dX is a hand-derived claim
of dY/dX.  The claims use the lesson's table of derivatives:

    d(w·a)/da = w    d(w·a)/dw = a    d(a + b)/da = 1    d(a²)/da = 2a
    d(sigmoid(a))/da = sigmoid(a)·(1 − sigmoid(a))    chain rule: df/dx = df/dg · dg/dx

    tracegraph check examples/neuron_homework.py             # every claim holds: exit code 0
    tracegraph check examples/neuron_homework.py --numeric   # also finite differences
    tracegraph check examples/neuron_homework_wrong.py       # the same with one mistake

Computing a claim from the traced values (dS_dG = S * (1 - S)) does not add
anything to the diagram of the neuron.
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
dS_dG = S * (1 - S)         # sigmoid'(G) = S·(1 − S)
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
    print("grade every step: tracegraph check examples/neuron_homework.py")
