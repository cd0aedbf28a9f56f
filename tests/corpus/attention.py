"""Scaled dot-product self-attention on three tokens, softmax written out."""
import numpy as np

rng = np.random.default_rng(1)
d = 4
tokens = 3
X = rng.normal(size=(tokens, d))
Wq = rng.normal(size=(d, d)) * 0.5
Wk = rng.normal(size=(d, d)) * 0.5
Wv = rng.normal(size=(d, d)) * 0.5

Q = X @ Wq
K = X @ Wk
V = X @ Wv
scores = Q @ K.T / np.sqrt(d)
shifted = scores - scores.max(axis=-1, keepdims=True)
weights = np.exp(shifted)
weights = weights / weights.sum(axis=-1, keepdims=True)
out = weights @ V
loss = np.sum(out ** 2) / tokens

dloss_dout = 2 * out / tokens
dloss_dV = weights.T @ dloss_dout
