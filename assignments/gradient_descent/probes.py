"""Gradient-descent probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. Gradients are built here from plain data (A, b for the quadratic
f(x) = 0.5 x^T A x - b^T x, whose gradient is A x - b), and random generators from a seed.

Question 3 is graded on its own: steps_to_converge may run question 1's gradient_descent, so
during a question 3 probe that name stands in (Names.standing_in) for a function that returns
the run's trajectory given in the inputs (`path`, computed on the trusted side) and falls back
on the student's own gradient_descent for any other call. A mistake in question 1 then costs
question 1's points only.
"""

import numpy as np

from checklib import MissingName, Raised


def _value_error(fn, *args):
    """Like checklib.raised, but any subclass of ValueError (np.linalg.LinAlgError is one)
    counts as the ValueError the functions must raise."""
    try:
        fn(*args)
    except MissingName:
        raise
    except ValueError:
        return Raised("ValueError")
    except Exception as exc:  # which exception is the point of the check
        return Raised(type(exc).__name__)
    return Raised(None)


def _quadratic_gradient(A, b):
    A, b = np.array(A, dtype=float), np.array(b, dtype=float)
    return lambda x: A @ x - b


def _smooth_gradient(c):
    # f(x) = sum(log cosh(x - c)) + 0.05 ||x||^2: not quadratic, and bounded curvature.
    c = np.array(c, dtype=float)
    return lambda x: np.tanh(x - c) + 0.1 * x


def gradient_descent(ns, A, b, x0, lr, n_steps):
    return {"path": ns["gradient_descent"](_quadratic_gradient(A, b), x0, lr, n_steps)}


def gradient_descent_smooth(ns, c, x0, lr, n_steps):
    return {"path": ns["gradient_descent"](_smooth_gradient(c), x0, lr, n_steps)}


def gradient_descent_cases(ns, cases):
    """What gradient_descent raised, if anything, for each [x0, n_steps] (lr 0.1, f = ||x||^2)."""
    grad = lambda x: 2.0 * x
    return {"raises": [_value_error(ns["gradient_descent"], grad, x0, 0.1, int(n_steps))
                       for x0, n_steps in cases]}


def max_stable_lr(ns, A):
    return {"lr_max": ns["max_stable_lr"](A)}


def max_stable_lr_invalid(ns, matrices):
    """matrices: dict name -> matrix that is not symmetric positive definite."""
    return {name: _value_error(ns["max_stable_lr"], A) for name, A in matrices.items()}


def max_stable_lr_each(ns, matrices):
    return {"lr_max": [ns["max_stable_lr"](A) for A in matrices]}


def stability(ns, A, b, x0, factors, n_steps):
    """The student's max_stable_lr(A) only: the parent runs gradient descent at
    factor * lr_max from x0 on 0.5 x^T A x - b^T x and judges what happens."""
    return {"lr_max": ns["max_stable_lr"](A)}


def _given_path(path, lr, own):
    """A stand-in for gradient_descent: the given trajectory from any of its points, for calls
    with the run's learning rate and at most as many steps as it holds (a run taken one step
    at a time too); any other call goes to the student's own function (own)."""
    path = np.asarray(path, dtype=float)
    rows = {}
    for k, row in enumerate(path):
        rows.setdefault((row + 0.0).tobytes(), k)    # + 0.0: -0.0 and 0.0 are one point

    def gradient_descent(grad_f, x0, lr_, n_steps):
        start = np.asarray(x0, dtype=float)
        if lr_ == lr and start.shape == path.shape[1:] and \
                isinstance(n_steps, (int, np.integer)) and n_steps >= 0:
            k = rows.get((start + 0.0).tobytes())
            if k is not None and k + n_steps < len(path):
                return path[k:k + n_steps + 1].copy()
        return own(grad_f, x0, lr_, n_steps)
    return gradient_descent


def steps_to_converge(ns, A, b, x0, lr, tol, max_steps, path=None):
    stand_in = {} if path is None else \
        {"gradient_descent": _given_path(path, lr, ns.own("gradient_descent"))}
    # Diverging runs overflow on purpose; their warnings would only be noise.
    with np.errstate(all="ignore"), ns.standing_in(**stand_in):
        steps = ns["steps_to_converge"](_quadratic_gradient(A, b), x0, lr, tol, max_steps)
    return {"steps": steps}


def steps_to_converge_runs(ns, runs):
    """steps_to_converge on each run of `runs` (dicts A, b, x0, lr, tol, max_steps)."""
    return {"steps": [steps_to_converge(ns, **run)["steps"] for run in runs]}


def minibatch_sgd(ns, X, y, w0, lr, batch_size, epochs, seed):
    rng = np.random.default_rng(seed)
    return {"path": ns["minibatch_sgd"](X, y, w0, lr, batch_size, epochs, rng)}


def minibatch_sgd_cases(ns, cases):
    """What minibatch_sgd raised, if anything, for each [X, y, w0, batch_size, epochs]
    (lr 0.1, a fresh generator seeded 0 per call)."""
    return {"raises": [_value_error(ns["minibatch_sgd"], X, y, w0, 0.1, int(batch_size),
                                    int(epochs), np.random.default_rng(0))
                       for X, y, w0, batch_size, epochs in cases]}


def gradient_descent_on_notebook_data(ns, A, b, x0, lr, n_steps):
    """gradient_descent on the notebook's own A_demo, b_demo from its x0_demo (the student's
    variant); the inputs are that variant's numbers, used where the notebook does not define
    them (as in the reference). A notebook carrying another student's numbers answers for
    those."""
    grad = _quadratic_gradient(ns.get("A_demo", A), ns.get("b_demo", b))
    return {"path": ns["gradient_descent"](grad, ns.get("x0_demo", x0), lr, n_steps)}
