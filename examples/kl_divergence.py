"""KL divergence between a target distribution and a model's softmax (seed 004).

    q = softmax(logits)                 the model's distribution
    KL = Σ p·ln(p / q)                  how far q is from the target p

KL(p ‖ q) is cross-entropy minus the entropy of p, so its gradient with
respect to the logits is q − p: the model's probabilities minus the target's.

    tracegraph explain examples/kl_divergence.py --wrt logits
"""

import numpy as np

from tracegraph import softmax

p = np.array([0.1, 0.6, 0.3])
logits = np.array([0.5, 1.0, -0.2])

q = softmax(logits)
KL = np.sum(p * np.log(p / q))

if __name__ == "__main__":
    print(f"q = {np.round(q, 4)}, KL(p ‖ q) = {KL:.4f}")
