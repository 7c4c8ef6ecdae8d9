"""Judges of the gradient-descent checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages). It
runs in the trusted parent on the raw values the student's functions returned; whatever is
measured (here: whether gradient descent converges) is measured here, never in the probe.
Messages say what kind of thing is wrong, never a number of the expected result.
"""

import math

import numpy as np

from checklib import say

# max_stable_lr is compared as in the value checks: |actual - expected| <= LR_RTOL |expected|.
LR_RTOL = 1e-9
# After n_steps, a run "converged" when its error ||x_n - x*|| fell below CONVERGED of its
# start and "diverged" when it grew above DIVERGED times it. With the factors used (0.5, 0.9
# below the limit, 1.1, 1.5 above it) and 500 steps the ratio is below 1e-9 or above 1e9.
CONVERGED = 1e-6
DIVERGED = 1e6


class _NotANumber(TypeError):
    pass


def _number(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _NotANumber(type(value).__name__)
    return float(value)


def _why(exc):
    """Why an output is not a number, as a message."""
    if isinstance(exc, _NotANumber):
        return say("gradient_descent.got-type", type=exc.args[0])
    if isinstance(exc, KeyError):
        return say("gradient_descent.no-output", name=str(exc.args[0]))
    return say("gradient_descent.unreadable")


def _behaviour(A, b, x0, lr, n_steps):
    """'converged', 'diverged' or 'neither' for n_steps of gradient descent at lr."""
    x_star = np.linalg.solve(A, b)
    start = float(np.linalg.norm(x0 - x_star))
    y = x0.copy()
    with np.errstate(all="ignore"):
        for _ in range(n_steps):
            y = y - lr * (A @ y - b)
        ratio = float(np.linalg.norm(y - x_star)) / start
    if ratio < CONVERGED:
        return "converged"
    return "neither" if ratio <= DIVERGED else "diverged"


def stability(inputs, outputs, expected):
    """Gradient descent at factor * (your max_stable_lr) behaves as at factor * 2/lambda_max:
    converges for the factors below 1 and diverges for those above (run here, in the parent)."""
    try:
        lr_max = _number(outputs["lr_max"])
    except (KeyError, TypeError) as exc:
        return 0.0, [say("gradient_descent.not-float", why=_why(exc))]
    if not math.isfinite(lr_max):
        return 0.0, [say("gradient_descent.not-finite")]
    want = _number(expected["lr_max"])
    A = np.asarray(inputs["A"], dtype=float)
    b = np.asarray(inputs["b"], dtype=float)
    x0 = np.asarray(inputs["x0"], dtype=float)
    n_steps = int(inputs["n_steps"])
    messages = []
    for factor in inputs["factors"]:
        got = _behaviour(A, b, x0, float(factor) * lr_max, n_steps)
        should = _behaviour(A, b, x0, float(factor) * want, n_steps)
        if got != should:
            # The factors are inputs of a hidden check: say below or above, not which.
            outcome = say("gradient_descent.did-not-converge" if should == "converged"
                          else "gradient_descent.did-not-diverge")
            message = say("gradient_descent.rate-below" if float(factor) < 1
                          else "gradient_descent.rate-above", outcome=outcome)
            if message not in messages:
                messages.append(message)
    if not messages and abs(lr_max - want) > LR_RTOL * abs(want):
        messages.append(say("gradient_descent.not-largest"))
    return (0.0, messages) if messages else (1.0, [])
