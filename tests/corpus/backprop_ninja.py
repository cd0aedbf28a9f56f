"""A two-layer MLP with batch norm on a character model's shapes (Karpathy's "backprop
ninja" exercise, written in numpy): the forward pass broken into small steps, the batch
size an int used to index and to average, and hand-derived gradients as claims."""
import numpy as np

rng = np.random.default_rng(42)
n = 5
vocab_size = 7
n_embd = 3
block_size = 2
n_hidden = 8

C = rng.normal(size=(vocab_size, n_embd))
Xb = rng.integers(0, vocab_size, size=(n, block_size))
Yb = rng.integers(0, vocab_size, size=n)
W1 = rng.normal(size=(n_embd * block_size, n_hidden)) * 0.3
b1 = rng.normal(size=n_hidden) * 0.1
W2 = rng.normal(size=(n_hidden, vocab_size)) * 0.3
b2 = rng.normal(size=vocab_size) * 0.1
bngain = rng.normal(size=(1, n_hidden)) * 0.1 + 1.0
bnbias = rng.normal(size=(1, n_hidden)) * 0.1

emb = C[Xb]
embcat = emb.reshape(emb.shape[0], -1)
hprebn = embcat @ W1 + b1
bnmeani = 1 / n * hprebn.sum(0, keepdims=True)
bndiff = hprebn - bnmeani
bndiff2 = bndiff ** 2
bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdims=True)
bnvar_inv = (bnvar + 1e-5) ** -0.5
bnraw = bndiff * bnvar_inv
hpreact = bngain * bnraw + bnbias
h = np.tanh(hpreact)
logits = h @ W2 + b2
logit_maxes = logits.max(1, keepdims=True)
norm_logits = logits - logit_maxes
counts = np.exp(norm_logits)
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum ** -1
probs = counts * counts_sum_inv
logprobs = np.log(probs)
loss = -logprobs[np.arange(n), Yb].mean()

onehot = np.zeros((n, vocab_size))
onehot[np.arange(n), Yb] = 1.0
dloss_dlogits = (probs - onehot) / n
dloss_dh = dloss_dlogits @ W2.T
dloss_dhpreact = (1.0 - h ** 2) * dloss_dh
dloss_dbngain = (bnraw * dloss_dhpreact).sum(0, keepdims=True)
dloss_dbnbias = dloss_dhpreact.sum(0)
dloss_dW2 = h.T @ dloss_dlogits
dloss_db2 = dloss_dlogits.sum(0)
