"""round() and sorted() on traced values."""
x = 1.234
y = 0.5
z = -0.7
r = round(x, 2)
ordered = sorted([x, y, z])
spread = ordered[-1] - ordered[0]
loss = spread * y + r
