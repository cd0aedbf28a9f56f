"""Seed 004: critical points of functions of two variables, told apart by the Hessian.

At a critical point the gradient is zero; the Hessian's eigenvalues then say
what kind of point it is: all positive, a minimum; all negative, a maximum;
both signs, a saddle; a zero eigenvalue decides nothing (the test is
inconclusive: x⁴ + y⁴ has a minimum at 0, x⁴ − y⁴ a saddle, and the monkey
saddle x³ − 3xy² neither).

    tracegraph hessian examples/critical_points.py                      # the saddle
    tracegraph hessian examples/critical_points.py --function monkey_saddle
    tracegraph hessian examples/critical_points.py --function bowl --set x=1
    python examples/critical_points.py                                 # all of them
"""

inputs = {"x": 0.0, "y": 0.0}
function = "saddle"


def bowl(x, y):
    return x ** 2 + y ** 2


def dome(x, y):
    return -(x ** 2) - 2 * y ** 2


def saddle(x, y):
    return x ** 2 - y ** 2


def flat_bowl(x, y):
    return x ** 4 + y ** 4


def flat_saddle(x, y):
    return x ** 4 - y ** 4


def monkey_saddle(x, y):
    return x ** 3 - 3 * x * y ** 2


if __name__ == "__main__":
    import tracegraph as tg

    for candidate in (bowl, dome, saddle, flat_bowl, flat_saddle, monkey_saddle):
        h = tg.hessian(candidate, **inputs)
        eigenvalues = ", ".join(f"{v + 0.0:g}" for v in h.eigenvalues)  # no "-0"
        print(f"{candidate.__name__:>13} at (0, 0): eigenvalues {eigenvalues:<8}  "
              f"→ {h.classify()}")
