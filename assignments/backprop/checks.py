"""Backprop checks: inputs and tolerances (trusted side). Points add up per question.

Public checks use the small network of the setup cell (the variant's: see variant()) in the
exercise's notation (examples are columns, Z = W^T A + b); hidden checks draw sizes, parameters
and data from the grading rng. Values are compared with the reference to rtol 1e-6 (plus a
small atol for entries near 0), as the assignment asks; the hidden gradient check compares the
student's backward with central differences of the course's cost, taken here on the trusted
side and given to the judge only (`_numeric`, judges.gradient_check).

Input validation (compute_cost's ValueError, numerical_gradient's TypeError and letting f's
exception through with x restored) is 0.75 of the 10 points (Check.validation).

Question 3 is graded on its own: backward gets the cache of the course's forward pass, and
the functions it may call (sigmoid, sigmoid_derivative, tanh_derivative, forward) stand in
during its probes for ones that return the values given here for that cache (probes.py), so a
mistake in question 1 or 2 costs that question's points only. Question 2's forward is not:
its A2 is sigmoid(Z2), and a stand-in would hand the expected output to the sandbox; a failed
forward that calls a wrong sigmoid is told so instead (upstream notes).
"""

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

VALUES = Tol(atol=1e-10, rtol=1e-6)
RESTORED = Tol(atol=1e-12)          # x back to its value; 1e-12 forgives nothing like eps

# The public network: n_x = 2, n_h = 3, m = 4.
X = np.array([[1.0, -0.5, 0.3, 2.0],
              [0.2, 1.5, -1.0, 0.0]])
Y = np.array([[1.0, 0.0, 1.0, 0.0]])
PARAMS = {"W1": np.array([[0.5, -0.3, 0.8],
                          [0.1, 0.4, -0.6]]),
          "b1": np.array([[0.1], [-0.2], [0.05]]),
          "W2": np.array([[0.7], [-1.2], [0.4]]),
          "b2": np.array([[0.1]])}
# The course's exercise is the canonical variant; per-student variants redraw the small network
# (sizes, data, parameters, the predictions of the public cost checks) and the seed of the toy
# data (see variant()); the notebook text and setup cell print them.
CANONICAL = {"n_x": 2, "n_h": 3, "m": 4, "X": X.tolist(), "Y": Y.tolist(),
             "params": {k: v.tolist() for k, v in PARAMS.items()},
             "A2": [[0.8, 0.3, 0.6, 0.1]], "A2_extreme": [[0.0, 1.0, 1.0, 0.0]], "toy_seed": 0,
             "seed": True}


def variant(rng):
    """A small network with n_x in 2..3, n_h in 2..4 and m in 4..6 examples of both classes,
    one-decimal data and weights (biases two decimals), predictions for the cost check, a 0/1
    prediction that is confidently wrong somewhere, and a seed for the toy data."""
    n_x, n_h, m = int(rng.integers(2, 4)), int(rng.integers(2, 5)), int(rng.integers(4, 7))
    X_v = np.round(rng.uniform(-2.0, 2.0, size=(n_x, m)), 1)
    Y_v = np.zeros((1, m))
    Y_v[0, rng.choice(m, size=int(rng.integers(1, m)), replace=False)] = 1.0
    while True:
        W1 = np.round(rng.normal(scale=0.6, size=(n_x, n_h)), 1)
        W2 = np.round(rng.normal(scale=0.8, size=(n_h, 1)), 1)
        if np.all(np.any(W1 != 0, axis=0)) and np.all(W2 != 0):
            break                          # every hidden unit takes part in the output
    params = {"W1": W1, "b1": np.round(rng.normal(scale=0.2, size=(n_h, 1)), 2),
              "W2": W2, "b2": np.round(rng.normal(scale=0.2, size=(1, 1)), 2)}
    extreme = (rng.random((1, m)) < 0.5).astype(float)
    extreme[0, 0] = 1.0 - Y_v[0, 0]        # confidently wrong at least once: the clip matters
    return {"n_x": n_x, "n_h": n_h, "m": m, "X": X_v.tolist(), "Y": Y_v.tolist(),
            "params": {k: w.tolist() for k, w in params.items()},
            "A2": np.round(rng.uniform(0.05, 0.95, size=(1, m)), 2).tolist(),
            "A2_extreme": extreme.tolist(), "toy_seed": int(rng.integers(1, 10_000)),
            "seed": False}


Z_SMALL = np.array([[-1000.0, -5.0, -1.0, -0.1],
                    [0.0, 0.5, 2.0, 1000.0]])
Z_DERIV = np.array([[-3.0, -1.0, -0.25],
                    [0.0, 0.5, 2.0]])


def _cache(X, params):
    """Forward pass (trusted side) so backward checks do not depend on the student's forward."""
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": 1.0 / (1.0 + np.exp(-Z2))}


def _backward_case(X, Y, params):
    """backward's inputs, with what question 1's functions give on the cache's pre-activations
    (`given`: rows [z, value]) for the stand-ins of the backward probes."""
    cache = _cache(X, params)
    A1, A2 = cache["A1"], cache["A2"]
    given = {"sigmoid": [[cache["Z2"], A2]],
             "sigmoid_derivative": [[cache["Z2"], A2 * (1.0 - A2)]],
             "tanh_derivative": [[cache["Z1"], 1.0 - A1 ** 2]]}
    return dict(X=X, Y=Y, params=params, cache=cache, given=given)


def _cost(X, Y, params):
    A = np.clip(_cache(X, params)["A2"], 1e-12, 1.0 - 1e-12)
    return float(-np.mean(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)))


def _central_differences(X, Y, params, eps):
    """{name: (J(params + eps e_i) - J(params - eps e_i)) / (2 eps)} of the course's cost."""
    numeric = {}
    for name, array in params.items():
        numeric[name] = np.zeros(array.shape)
        for pos in np.ndindex(array.shape):
            costs = []
            for shift in (eps, -eps):
                moved = {k: v.copy() for k, v in params.items()}
                moved[name][pos] = array[pos] + shift
                costs.append(_cost(X, Y, moved))
            numeric[name][pos] = (costs[0] - costs[1]) / (2.0 * eps)
    return numeric


def _network(rng, n_x=None, n_h=None, m=None):
    n_x = int(rng.integers(2, 7)) if n_x is None else n_x
    n_h = int(rng.integers(2, 9)) if n_h is None else n_h
    m = int(rng.integers(5, 41)) if m is None else m
    params = {"W1": rng.normal(size=(n_x, n_h)) / np.sqrt(n_x),
              "b1": 0.5 * rng.normal(size=(n_h, 1)),
              "W2": rng.normal(size=(n_h, 1)) / np.sqrt(n_h),
              "b2": 0.5 * rng.normal(size=(1, 1))}
    X = rng.normal(size=(n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    Y[0, :2] = [0.0, 1.0]           # both classes, so no term of the cost is trivially 0
    return X, Y, params


def _random_z(scale):
    def inputs(rng):
        shape = (int(rng.integers(2, 6)), int(rng.integers(3, 9)))
        return rng.normal(scale=scale, size=shape)
    return inputs


def _elementwise(function, scale):
    z = _random_z(scale)
    return lambda rng: dict(function=function, z=z(rng))


def _random_forward(rng):
    X, _, params = _network(rng)
    return dict(X=X, params=params)


def _random_cost(rng):
    m = int(rng.integers(5, 50))
    A2 = rng.uniform(0.01, 0.99, size=(1, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    return dict(A2=A2, Y=Y)


def _random_backward(rng):
    return _backward_case(*_network(rng))


def _gradient_check(rng):
    X, Y, params = _network(rng, int(rng.integers(2, 6)), int(rng.integers(2, 7)),
                            int(rng.integers(5, 31)))
    # The central differences are the judge's only: in the sandbox they would be the answer.
    return dict(_backward_case(X, Y, params), _numeric=_central_differences(X, Y, params, 1e-5))


def _random_numgrad(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
    return dict(x=rng.normal(size=shape), c=rng.normal(size=shape), kind="sin", eps=1e-6)


def _coupled_numgrad(rng):
    shape = (2, int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    return dict(x=rng.normal(size=shape), c=rng.normal(size=shape), kind="coupled")


def _fast_numgrad(rng):
    # sum(sin(1000 x) * c) with the default eps: its central difference is the derivative
    # times sin(1000 eps) / (1000 eps), 1 - 1.7e-5 for eps = 1e-5, so another default shows.
    shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    return dict(x=rng.normal(size=shape), c=rng.normal(size=shape), kind="fast")


def _random_update(rng):
    _, _, params = _network(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    return dict(params=params, grads=grads, lr=float(rng.uniform(0.01, 1.0)))


def checks(v):
    X, Y = np.array(v["X"], dtype=float), np.array(v["Y"], dtype=float)
    PARAMS = {k: np.array(w, dtype=float) for k, w in v["params"].items()}
    A2, A2_extreme = np.array(v["A2"], dtype=float), np.array(v["A2_extreme"], dtype=float)
    forward_tol = {"A2": VALUES, "cache": VALUES}
    numgrad_tol = {"grad": VALUES, "x_after": RESTORED}
    update_tol = {"params": VALUES, "params_after_call": RESTORED}
    return [
        # q1: activations
        Check("q1", "sigmoid of a small array, including z = -1000 and z = 1000", "elementwise",
              lambda rng: dict(function="sigmoid", z=Z_SMALL), points=0.25, tol=VALUES),
        Check("q1", "sigmoid_derivative of a small array", "elementwise",
              lambda rng: dict(function="sigmoid_derivative", z=Z_DERIV), points=0.25,
              tol=VALUES),
        Check("q1", "tanh_derivative of a small array", "elementwise",
              lambda rng: dict(function="tanh_derivative", z=Z_DERIV), points=0.25,
              tol=VALUES),
        Check("q1", "sigmoid on random arrays with |z| up to several hundred", "elementwise",
              _elementwise("sigmoid", 200.0), points=0.5, hidden=True, tol=VALUES),
        Check("q1", "sigmoid_derivative on random arrays", "elementwise",
              _elementwise("sigmoid_derivative", 3.0), points=0.375, hidden=True, tol=VALUES),
        Check("q1", "tanh_derivative on random arrays", "elementwise",
              _elementwise("tanh_derivative", 2.0), points=0.375, hidden=True, tol=VALUES),
        # q2: forward pass and cost
        Check("q2", "forward on the small network: A2 and the cache", "forward",
              lambda rng: dict(X=X, params=PARAMS), points=0.25, tol=forward_tol),
        Check("q2", "cost of your notebook's own small network (X_small, Y_small, "
              "params_small)", "cost_on_notebook_data",
              lambda rng: dict(X=X, Y=Y, params=PARAMS), points=0.25, tol=VALUES),
        Check("q2", "cost of a small example", "compute_cost",
              lambda rng: dict(A2=A2, Y=Y), points=0.25, tol=VALUES),
        Check("q2", "cost is finite for A2 exactly 0 or 1", "compute_cost",
              lambda rng: dict(A2=A2_extreme, Y=Y), points=0.25, tol=VALUES),
        Check("q2", "A2 and Y of different shapes raise ValueError", "cost_shape_mismatch",
              lambda rng: dict(A2=np.full((1, 3), 0.5), Y=np.ones((3, 1))), points=0.25,
              validation=True),
        Check("q2", "forward through a network of random size", "forward", _random_forward,
              points=0.5, hidden=True, tol=forward_tol),
        Check("q2", "cost of random predictions", "compute_cost", _random_cost, points=0.25,
              hidden=True, tol=VALUES),
        # q3: backpropagation
        Check("q3", "gradients of the small network", "backward",
              lambda rng: _backward_case(X, Y, PARAMS), points=1.0, tol=VALUES),
        Check("q3", "gradients of a network of random size against the reference", "backward",
              _random_backward, points=1.0, hidden=True, tol=VALUES),
        Check("q3", "your backward against central differences of the cost",
              "gradient_check", _gradient_check, points=1.0, hidden=True,
              judge="gradient_check"),
        # q4: gradient checking
        Check("q4", "gradient of sum(sin(x) * c), x restored", "numerical_gradient",
              lambda rng: dict(x=np.array([[0.5, -1.0, 2.0], [0.0, 1.5, -0.3]]),
                               c=np.array([[1.0, 2.0, -1.0], [0.5, -2.0, 3.0]])),
              points=0.5, tol=numgrad_tol),
        Check("q4", "integer x raises TypeError", "numerical_gradient_integer_x",
              lambda rng: dict(x=np.array([1, 2, 3])), points=0.25, validation=True),
        Check("q4", "random x with eps = 1e-6", "numerical_gradient", _random_numgrad,
              points=0.375, hidden=True, tol=numgrad_tol),
        Check("q4", "coupled function of a 3-D x", "numerical_gradient", _coupled_numgrad,
              points=0.375, hidden=True, tol=numgrad_tol),
        Check("q4", "a fast-varying function with the default eps", "numerical_gradient",
              _fast_numgrad, points=0.25, hidden=True, tol=numgrad_tol),
        Check("q4", "x restored although f raised", "numerical_gradient_f_raises",
              lambda rng: dict(x=rng.normal(size=4), calls_before_failure=2,
                               c=rng.normal(size=4)), points=0.25,
              hidden=True, validation=True,
              tol={"grad": VALUES, "raises": EXACT, "x_after": RESTORED}),
        # q5: parameter update
        Check("q5", "one step on the small network, params left unchanged",
              "update_parameters",
              lambda rng: dict(params=PARAMS, grads={"d" + k: np.full(w.shape, 0.5)
                                                     for k, w in PARAMS.items()}, lr=0.1),
              points=0.5, tol=update_tol),
        Check("q5", "one step with random gradients and learning rate", "update_parameters",
              _random_update, points=0.5, hidden=True, tol=update_tol),
    ]
