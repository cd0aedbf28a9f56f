"""Multidimensional scaling of Europe's 34 cities of over a million people (seed 003).

Place the cities on a plane knowing only how far apart they are: the stress
Σ over pairs (D_mn − d_mn(X))² compares the great-circle distances D with the
distances d between the points X (2 coordinates per city, 68 variables).  The
layout starts from a seeded random guess; distances are in thousands of km.

    tracegraph render examples/mds_cities.py       # the stress for the starting layout
    tracegraph explain examples/mds_cities.py --wrt X
    python examples/mds_cities.py                  # gradient descent from there
"""

import csv
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "european_cities.csv"


def read_cities(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = [line for line in handle if not line.startswith("#")]
    return list(csv.DictReader(rows))


def great_circle_km(cities, earth_radius_km=6371.0):
    lat = np.radians([float(c["latitude"]) for c in cities])
    lon = np.radians([float(c["longitude"]) for c in cities])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * earth_radius_km * np.arcsin(np.sqrt(h))


cities = read_cities(DATA)
pairs = np.triu_indices(len(cities), k=1)  # each pair of cities once
D = great_circle_km(cities) / 1000.0
X = np.random.default_rng(3).normal(size=(len(cities), 2))


def stress_of(X, D):
    m, n = pairs
    Xm = X[m]
    Xn = X[n]
    d = np.sqrt(np.sum((Xm - Xn) ** 2, axis=1))  # the distances on the plane
    Dmn = D[m, n]  # the distances on the globe
    return np.sum((Dmn - d) ** 2)


stress = stress_of(X, D)

if __name__ == "__main__":
    import tracegraph as tg

    layout, rate = X, 0.002
    print(f"start: stress = {stress:.2f}")
    for step in range(1, 501):
        t = tg.trace(stress_of, X=layout, D=tg.constant(D))
        layout = layout - rate * t.grads["X"]
        if step in (10, 50, 100, 500):
            print(f"step {step:3}: stress = {t.value:.3f}")
    centred = layout - layout.mean(axis=0)
    for city, (a, b) in zip(cities, centred):
        print(f"  {city['name']:<17} {a:6.2f} {b:6.2f}")
