"""The neuron of seed 002: F(x1, x2, x3) = S(G(w1·x1 + w2·x2 + w3·x3)), with a squared loss.

The lecture splits it into small named functions, each with an entry in the
table of derivatives, and so does this file:

    A = w1·x1    B = w2·x2    C = w3·x3    G = A + B + C    S = sigmoid(G)
    Loss = (gold − S)²

    tracegraph render examples/neuron.py     # neuron.svg: value and dLoss/dnode on every node
    tracegraph explain examples/neuron.py    # the chain-rule table, row by row
    tracegraph paths examples/neuron.py --from w1
    python examples/neuron.py                # the forward pass only
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

A = w1 * x1
B = w2 * x2
C = w3 * x3
G = A + B + C
S = sigmoid(G)
Loss = (gold - S) ** 2

if __name__ == "__main__":
    print(f"A = {A}, B = {B}, C = {C}, G = {G:.4f}, S = {S:.4f}, Loss = {Loss:.4f}")
    print("dLoss/dnode for every node: tracegraph explain examples/neuron.py")
