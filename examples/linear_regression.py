"""How a model learns, on linear regression (seed 002).

    pred = w1·x1 + param·x2 + w3·x3        the model
    Loss = (gold − pred)²                   how wrong it is on one example

How should `param` change so the next prediction is better?  Move it against
the derivative, a little:

    param_new = param_old − 0.001 · dLoss/dparam_old

`tracegraph explain examples/linear_regression.py` prints dLoss/dparam (the last
column of the `param` row); `--set param=...` traces another value.  Running
the file with python takes a few such steps and shows the loss going down.
"""

# One example and the current parameters.
x1 = 1.0
x2 = 2.0
x3 = 3.0
gold = 3.0
w1 = 0.5
param = -0.2
w3 = 0.1

pred = w1 * x1 + param * x2 + w3 * x3
Loss = (gold - pred) ** 2

if __name__ == "__main__":
    from pathlib import Path

    from tracegraph.script import load_script

    learning_rate = 0.001
    for step in range(5):
        traced = load_script(Path(__file__), overrides={"param": param})
        gradient = traced.trace.grads["param"]
        print(f"step {step}: param = {param:.5f}   Loss = {traced.trace.value:.5f}   "
              f"dLoss/dparam = {gradient:.4f}")
        param = param - learning_rate * gradient
