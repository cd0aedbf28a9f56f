"""Distance to nearest centroid (k-means objective) with argmin assignments."""
import numpy as np
rng = np.random.default_rng(11)
pts = rng.normal(size=(6, 2))
cent = np.array([[0.0, 0.0], [1.0, 1.0]])
d2 = ((pts[:, None, :] - cent[None, :, :]) ** 2).sum(axis=-1)
assign = d2.argmin(axis=1)
obj = d2[np.arange(len(pts)), assign].sum()
