"""Star unpacking, a swap, a walrus in an if, sum() of the rest."""
p = 1.0
q = 2.0
r = 3.0
first, *rest = [p * 2, q * 3, r * 4]
p, q = q, p
total = first + sum(rest)
if (big := total * p) > 1.0:
    out = big - q
else:
    out = big + q
loss = out ** 2
dloss_dbig = 2 * out
