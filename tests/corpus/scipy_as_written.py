"""scipy as people import it: the file traces as written (the mirrors stand in for
scipy.special, .stats, .signal and .linalg), and every value is what python FILE prints."""
import numpy as np
import scipy
import scipy.stats as st
import scipy.signal
from scipy import special, linalg
from scipy.stats import norm, multivariate_normal
from scipy.special import logsumexp, expit

mu = 0.5
sigma = 1.3
x = np.array([0.1, 0.7, 1.2])
C = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
nll = -np.sum(st.norm.logpdf(x, mu, sigma)) - np.sum(norm(mu, sigma).logcdf(x))
prior = special.gammaln(sigma) + logsumexp(x * mu) + np.sum(expit(x))
mv = multivariate_normal.logpdf(x, mean=np.zeros(3), cov=C * sigma)
root = np.sum(linalg.sqrtm(C * mu)) + np.sum(scipy.linalg.solve_triangular(np.triu(C), x * sigma))
conv = np.sum(scipy.signal.convolve(x, np.array([mu, 1.0]), mode="same") ** 2)
scale = scipy.stats.t.logpdf(mu, 3.0) + np.linalg.det(C)
loss = nll + prior - mv + root + conv + scale
