"""Discounted returns computed backwards in a loop with reversed()."""
import numpy as np
rewards = np.array([1.0, 0.0, 2.0, -1.0])
gamma = 0.9
G = 0.0
returns = []
for r in reversed(rewards):
    G = r + gamma * G
    returns.insert(0, G)
returns = np.array(returns)
loss = np.sum(returns ** 2)
