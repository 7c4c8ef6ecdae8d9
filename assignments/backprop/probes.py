"""Backprop probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs. Probes
only call and return: every difference, norm and comparison is made by the parent (judges.py,
checks.py).

Question 3 is graded on its own: backward gets the course's cache, and may call sigmoid,
sigmoid_derivative, tanh_derivative (question 1) or forward (question 2); during a backward
probe those names stand in (Names.standing_in) for functions that return the values given in
the inputs (`given`, computed on the trusted side; forward returns the given cache) for the
check's network, and fall back on the student's own function for any other call. A mistake in
question 1 or 2 then costs that question's points only.
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


def _near(a, b):
    """Is a the array b, up to the rounding of recomputing it? (Which row of a stand-in's
    table a call asks for.)"""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-10, atol=1e-12))


def _given(name, table, own):
    """A stand-in for question 1's function `name`: for a z of a row [z, value] of table it
    returns that value; any other call goes to the student's own function."""
    def stand_in(z):
        for z_i, value in table:
            if _near(z, z_i):
                return np.array(value, dtype=float)
        return own(z)
    return stand_in


def _standing_in(ns, X, params, cache, given):
    """ns with question 1's functions and forward standing in (see the module docstring)."""
    own_forward = ns.own("forward")

    def forward(X_, params_):
        if _near(X_, X) and isinstance(params_, dict) and \
                all(_near(params_.get(k), params[k]) for k in params):
            return np.array(cache["A2"]), {k: np.array(v) for k, v in cache.items()}
        return own_forward(X_, params_)

    return ns.standing_in(forward=forward, **{name: _given(name, table, ns.own(name))
                                              for name, table in given.items()})


def backward(ns, X, Y, params, cache, given):
    with _standing_in(ns, X, params, cache, given):
        return {"grads": ns["backward"](X, Y, params, cache)}


def gradient_check(ns, X, Y, params, cache, given, **judge_only):
    """The student's backward, as in the backward probe; the parent compares it with central
    differences of the course's cost (a judge-only input, never sent here)."""
    with _standing_in(ns, X, params, cache, given):
        return {"analytic": ns["backward"](X, Y, params, cache)}


def _test_function(kind, x, c):
    if kind == "sin":
        return lambda: float(np.sum(np.sin(x) * c))
    if kind == "fast":  # its central differences depend visibly on eps
        return lambda: float(np.sum(np.sin(1000.0 * x) * c))
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
