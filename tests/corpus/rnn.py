"""A small recurrent network: the hidden state h is reassigned at every step, so it has
one version per step; the claims at the end are about the last one."""
import numpy as np

rng = np.random.default_rng(0)
steps = 5
Wxh = rng.normal(size=(4, 3)) * 0.5
Whh = rng.normal(size=(4, 4)) * 0.5
bh = np.zeros(4)
xs = rng.normal(size=(steps, 3))

h = np.zeros(4)
for t in range(steps):
    h = np.tanh(Wxh @ xs[t] + Whh @ h + bh)
loss = np.sum(h ** 2) / steps

dloss_dh = 2 * h / steps
dloss_dbh = (1 - h ** 2) * dloss_dh + 0.0 * bh
