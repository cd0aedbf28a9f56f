"""Names with underscores and d in them: w_1, h_dot, x_dev."""
import numpy as np
w_1 = 0.5
x_dev = 1.5
h_dot = w_1 * x_dev
y_d = np.sin(h_dot)
loss_d = y_d ** 2
dloss_d_dy_d = 2 * y_d
dy_d_dh_dot = np.cos(h_dot)
dh_dot_dw_1 = x_dev
dloss_d_dw_1 = dloss_d_dy_d * dy_d_dh_dot * dh_dot_dw_1
