"""Backprop probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs. Every
probe calls the functions of one question only, except gradient_check, which by design checks
the student's backward against the student's own forward and compute_cost. Probes only call
and return: every difference, norm and comparison is made by the parent (judges.py, checks.py).
"""

import numpy as np

from checklib import raised, unpack


def elementwise(ns, function, z):
    """sigmoid, sigmoid_derivative or tanh_derivative (named by `function`) on an array."""
    return {"value": ns[function](np.array(z, dtype=float))}


def forward(ns, X, params):
    A2, cache = unpack(ns["forward"](X, params), 2, "(A2, cache)")
    return {"A2": A2, "cache": cache}


def compute_cost(ns, A2, Y):
    return {"cost": ns["compute_cost"](A2, Y)}


def cost_shape_mismatch(ns, A2, Y):
    return {"raises": raised(ns["compute_cost"], A2, Y)}


def backward(ns, X, Y, params, cache):
    return {"grads": ns["backward"](X, Y, params, cache)}


def gradient_check(ns, X, Y, params, eps):
    """The student's backward, and the student's cost at params +- eps in each entry.

    The cost is J(params) = compute_cost(forward(X, params)[0], Y), all three functions being
    the submission's. The costs are returned as they are; the parent takes the central
    differences and compares them with the backward and with the course's cost, so nothing
    here measures anything.
    """
    params = {name: np.array(value, dtype=float) for name, value in params.items()}
    A2, cache = unpack(ns["forward"](X, {k: v.copy() for k, v in params.items()}), 2,
                       "(A2, cache)")
    analytic = ns["backward"](X, Y, {k: v.copy() for k, v in params.items()}, cache)

    def cost():
        out = unpack(ns["forward"](X, {k: v.copy() for k, v in params.items()}), 2,
                     "(A2, cache)")
        return float(ns["compute_cost"](out[0], Y))

    plus, minus = {}, {}
    for name, array in params.items():
        plus[name], minus[name] = np.zeros(array.shape), np.zeros(array.shape)
        for pos in np.ndindex(array.shape):
            saved = array[pos]
            array[pos] = saved + eps
            plus[name][pos] = cost()
            array[pos] = saved - eps
            minus[name][pos] = cost()
            array[pos] = saved
    return {"analytic": analytic, "cost_plus": plus, "cost_minus": minus}


def _test_function(kind, x, c):
    if kind == "sin":
        return lambda: float(np.sum(np.sin(x) * c))
    # "coupled": every entry's derivative depends on all the others.
    return lambda: float(np.sum(np.sin(x) * c) + 0.5 * np.sum(x) ** 2)


def numerical_gradient(ns, x, c, kind="sin", eps=None):
    """Gradient of a scalar function of x built here; also reports x after the call."""
    x = np.array(x, dtype=float)
    f = _test_function(kind, x, np.array(c, dtype=float))
    if eps is None:
        grad = ns["numerical_gradient"](f, x)
    else:
        grad = ns["numerical_gradient"](f, x, eps)
    return {"grad": grad, "x_after": x}


class FunctionFailed(Exception):
    """What the probe's f raises on purpose; numerical_gradient should let it through."""


def numerical_gradient_f_raises(ns, x, calls_before_failure, c):
    """f fails on a later call, while an entry of x is perturbed: x must still be restored.
    The same x also goes through a working f first (sum(sin(x) * c)): "x is as it was" alone
    is an answer anyone could give without calling anything."""
    grad = numerical_gradient(ns, x, c)["grad"]
    x = np.array(x, dtype=float)
    calls = []

    def f():
        calls.append(1)
        if len(calls) > calls_before_failure:
            raise FunctionFailed("f failed on purpose")
        return float(np.sum(x ** 2))

    return {"grad": grad, "raises": raised(ns["numerical_gradient"], f, x), "x_after": x}


def numerical_gradient_integer_x(ns, x):
    return {"raises": raised(ns["numerical_gradient"], lambda: 0.0, np.array(x, dtype=int))}


def update_parameters(ns, params, grads, lr):
    given = {name: np.array(value, dtype=float) for name, value in params.items()}
    new = ns["update_parameters"](given, grads, lr)
    # The dict that was passed, as it is after the call: the parent compares it with the
    # parameters it sent (update_parameters must leave them alone).
    return {"params": new, "params_after_call": given}


def cost_on_notebook_data(ns, X, Y, params):
    """The cost of the notebook's own small network X_small, Y_small, params_small (the
    student's variant) through the submission's forward and compute_cost; the inputs are that
    variant's numbers, used where the notebook does not define them (as in the reference). A
    notebook carrying another student's numbers answers for those."""
    X, Y = ns.get("X_small", X), ns.get("Y_small", Y)
    params = {name: np.array(value, dtype=float)
              for name, value in ns.get("params_small", params).items()}
    A2, _ = unpack(ns["forward"](X, params), 2, "(A2, cache)")
    return {"cost": ns["compute_cost"](A2, Y)}
