"""Gradient-descent checks: inputs and tolerances (trusted side). Points add up per question.

Public checks use the setup cell's quadratic (A_demo, b_demo, from x0_demo: the variant's
numbers, see variant()) and small fixed problems;
hidden checks draw random symmetric positive definite matrices, data and seeds from the
grading rng. Trajectories are compared entry by entry to rtol 1e-10 (the operations are the
same up to summation order, which costs ~1e-16 per step on these stable runs); step counts
and raised exceptions exactly.

Input validation (raising ValueError, Check.validation) carries 1 of the 10 points: the course
grades the mathematics. The validation checks mix valid calls among the invalid ones, at the
boundaries (0 steps, 0 epochs), and the invalid ones include a batch_size of 0 with 0 epochs
(no batch is ever taken, so only the validation can refuse it) and a singular matrix.

Question 3 is graded apart from question 1: steps_to_converge may run gradient_descent, so its
probes let gradient_descent stand in with the run's trajectory (`path`, computed here by
_trajectory) for calls from a point of that run with the run's learning rate (probes.py).
"""

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

PATH = Tol(atol=1e-10, rtol=1e-10)
LR = Tol(atol=0.0, rtol=1e-9)

A_DEMO = np.array([[5.5, 4.5], [4.5, 5.5]])       # eigenvalues 1 and 10
B_DEMO = np.array([1.0, -1.0])

# The course's exercise is the canonical variant; per-student variants redraw the setup cell's
# quadratic (A_demo with its eigenvalues, b_demo), its start point x0_demo, the learning rates
# of the public checks and the least-squares w_true (see variant()); the notebook text and
# setup cell print them.
CANONICAL = {"A": A_DEMO.tolist(), "b": B_DEMO.tolist(), "eig": [1.0, 10.0], "x0": [2.0, 1.0],
             "lr": 0.1, "lr_above": 0.25, "w_true": [2.0, -1.0, 0.5], "seed": True}

# Unit eigenvectors (c, s) of lambda_min with exact decimal squares and products, so A_demo
# has short decimal entries and exactly the drawn eigenvalues.
_ROTATIONS = [(0.5 ** 0.5, 0.5 ** 0.5), (0.6, 0.8), (0.8, 0.6)]


def variant(rng):
    """An elongated 2-D bowl with eigenvalues lo < hi, b and x0 on a half-unit grid, a learning
    rate below the limit 2/hi that converges to tol 1e-6 within the 1000 steps of the public
    check (never within rounding of tol), one above the limit, and w_true for the SGD demo."""
    while True:
        lo = float(rng.choice([0.5, 1.0, 1.5, 2.0]))
        hi = float(rng.choice([6.0, 8.0, 10.0, 12.0, 16.0]))
        c, s = _ROTATIONS[int(rng.integers(len(_ROTATIONS)))]
        s = s if rng.random() < 0.5 else -s
        u, w = np.array([c, s]), np.array([-s, c])
        A = np.round(lo * np.outer(u, u) + hi * np.outer(w, w), 4)
        b = rng.integers(-4, 5, size=2) / 2.0
        x0 = rng.integers(-6, 7, size=2) / 2.0
        g0 = A @ x0 - b
        if not np.any(b) or np.linalg.norm(g0) < 1.0 or abs(g0 @ w) < 0.1 * np.linalg.norm(g0):
            continue                       # the run above the limit must visibly diverge
        lr = round(float(rng.choice([0.5, 0.75, 1.0, 1.25])) / hi, 3)
        limit = 2.0 / hi
        lr_above = round(limit * float(rng.choice([1.1, 1.25, 1.5])), 3)
        norms = np.array(_gradient_norms(A, b, x0, lr, 1000))
        if not (lr < 0.8 * limit and lr_above > 1.05 * limit and np.any(norms < 1e-6)):
            continue
        n = int(np.argmax(norms < 1e-6))
        if n > 700 or np.min(np.abs(np.log(norms[:n + 1] / 1e-6))) < 1e-6:
            continue
        return {"A": A.tolist(), "b": b.tolist(), "eig": [lo, hi], "x0": x0.tolist(),
                "lr": lr, "lr_above": lr_above,
                "w_true": (rng.choice([-1, 1], size=3) * rng.integers(1, 6, size=3) / 2.0).tolist(),
                "seed": False}


def _spd(rng, d, low=0.5, high=5.0):
    """A random symmetric positive definite matrix with eigenvalues in [low, high]."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = rng.uniform(low, high, size=d)
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2


def _random_quadratic(rng):
    d = int(rng.integers(2, 7))
    A = _spd(rng, d)
    lr = float(rng.uniform(0.2, 1.8) / np.linalg.eigvalsh(A)[-1])
    return dict(A=A, b=rng.normal(size=d), x0=rng.normal(size=d), lr=lr, n_steps=30)


def _smooth(rng):
    d = int(rng.integers(2, 6))
    return dict(c=rng.normal(size=d), x0=rng.normal(scale=3.0, size=d),
                lr=float(rng.uniform(0.3, 1.5)), n_steps=25)


def _bad_gd_input(rng):
    """A 2-D x0 and a negative n_steps, next to a valid call, in a random order: which calls
    raise must come from the inputs, not from a fixed answer a forged report could give."""
    d = int(rng.integers(2, 5))
    cases = [[rng.normal(size=(d, 2)), 3], [rng.normal(size=d), -int(rng.integers(1, 5))],
             [rng.normal(size=d), int(rng.integers(0, 4))]]
    return dict(cases=[cases[k] for k in rng.permutation(len(cases))])


def _random_spd(rng):
    return dict(A=_spd(rng, int(rng.integers(2, 8)), 0.1, 20.0))


def _one_by_one_and_large(rng):
    """A 1 x 1 matrix (d = 1 is a valid size) and a matrix with large eigenvalues (1e3 to 1e4)
    symmetric only up to rounding: its asymmetry, 1e-13 to 1e-11, is rounding for entries of
    that size (np.allclose and any tolerance relative to the entries accept it)."""
    while True:
        d = int(rng.integers(3, 7))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        A = (Q * rng.uniform(1e3, 1e4, size=d)) @ Q.T
        if 1e-13 <= np.max(np.abs(A - A.T)) <= 1e-11:
            break
    return dict(matrices=[[[float(rng.uniform(0.1, 20.0))]], A])


def _stability(rng):
    d = int(rng.integers(2, 6))
    A = _spd(rng, d)
    return dict(A=A, b=rng.normal(size=d), x0=rng.normal(size=d),
                factors=[0.5, 0.9, 1.1, 1.5], n_steps=500)


def _rounding_asymmetry(rng):
    # (Q * lam) @ Q^T without symmetrizing: symmetric only up to rounding (~1e-16).
    while True:
        d = int(rng.integers(3, 7))
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        A = (Q * rng.uniform(0.5, 5.0, size=d)) @ Q.T
        if np.any(A != A.T):
            return dict(A=A)


def _random_invalid(rng):
    """Four invalid matrices (not square, not symmetric, indefinite, singular: an exact zero
    eigenvalue) and one valid one, under neutral names in a random order: the answer depends on
    the matrices, not on the names or on a fixed pattern."""
    d = int(rng.integers(2, 6))
    asymmetric = _spd(rng, d)
    asymmetric[0, 1] += 0.5
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = rng.uniform(0.5, 5.0, size=d)
    lam[int(rng.integers(d))] = -float(rng.uniform(0.5, 2.0))
    indefinite = (Q * lam) @ Q.T
    singular = np.diag(rng.permutation(np.r_[0.0, rng.uniform(0.5, 5.0, size=d - 1)]))
    matrices = [rng.normal(size=(d, d + 1)), asymmetric, (indefinite + indefinite.T) / 2,
                singular, _spd(rng, d)]
    order = rng.permutation(len(matrices))
    return dict(matrices={f"matrix {i + 1}": matrices[k] for i, k in enumerate(order)})


def _trajectory(A, b, x0, lr, n_steps):
    """Gradient descent's iterates on 0.5 x^T A x - b^T x, (n_steps + 1, d): given to the
    question 3 probes, where gradient_descent stands in with them. A diverging run overflows
    to inf and nan, as the student's own would."""
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    path = np.empty((int(n_steps) + 1, len(b)))
    path[0] = x0
    with np.errstate(all="ignore"):
        for n in range(int(n_steps)):
            path[n + 1] = path[n] - lr * (A @ path[n] - b)
    return path


def _run(**run):
    """A steps_to_converge run with its trajectory (see _trajectory)."""
    return dict(run, path=_trajectory(run["A"], run["b"], run["x0"], run["lr"],
                                      run["max_steps"]))


def _gradient_norms(A, b, x0, lr, n_steps):
    x, norms = np.array(x0, dtype=float), []
    for _ in range(n_steps + 1):
        g = A @ x - b
        norms.append(float(np.linalg.norm(g)))
        x = x - lr * g
    return norms


def _converging(rng, shift=0):
    """A run whose gradient norm first drops below tol at step n (n in 1..150).

    tol sits at the geometric mean of ||grad f(x_{n-1})|| and ||grad f(x_n)||, so rounding
    in the student's arithmetic cannot move the answer; max_steps = n + shift.
    """
    d = int(rng.integers(2, 6))
    A = _spd(rng, d)
    lr = float(rng.uniform(0.2, 1.0) / np.linalg.eigvalsh(A)[-1])
    b, x0 = rng.normal(size=d), rng.normal(scale=3.0, size=d)
    norms = _gradient_norms(A, b, x0, lr, 150)
    # Below 2/lambda_max the gradient norm decreases monotonically, so n is the first step
    # under tol, as long as the norms stay well above the rounding floor (~1e-16 ||b||).
    usable = [k for k in range(1, 151) if norms[k] > 1e-9 * norms[0]]
    n = int(rng.choice(usable[-130:]))
    tol = float(np.sqrt(norms[n - 1] * norms[n]))
    return dict(A=A, b=b, x0=x0, lr=lr, tol=tol, max_steps=n + shift)


def _random_converging(rng):
    inputs = _converging(rng)
    inputs["max_steps"] += 1000
    return inputs


def _exactly_tol(rng):
    """A run whose gradient norm equals tol exactly at step k (then halves): ||grad|| < tol is
    strict, so the answer is k + 1. Exact in floating point: a diagonal A with 1 on the axis
    of x0, b = 0 and lr = 0.5 halve the one nonzero coordinate at every step."""
    d, k = int(rng.integers(2, 6)), int(rng.integers(1, 21))
    axis = int(rng.integers(d))
    diagonal = rng.uniform(0.5, 5.0, size=d)
    diagonal[axis] = 1.0
    x0 = np.zeros(d)
    x0[axis] = float(rng.choice([-1.0, 1.0]) * 2.0 ** int(rng.integers(-3, 4)))
    return dict(A=np.diag(diagonal), b=np.zeros(d), x0=x0, lr=0.5,
                tol=abs(x0[axis]) * 2.0 ** -k, max_steps=k + int(rng.integers(2, 50)))


def _diverging(rng):
    d = int(rng.integers(2, 6))
    A = _spd(rng, d)
    lr = float(rng.uniform(1.05, 1.5) * 2.0 / np.linalg.eigvalsh(A)[-1])
    return dict(A=A, b=rng.normal(size=d), x0=rng.normal(size=d), lr=lr, tol=1e-6,
                max_steps=5000)


def _shuffled(rng, runs):
    return dict(runs=[_run(**runs[k]) for k in rng.permutation(len(runs))])


def _late_and_in_time(rng):
    """A run whose tolerance is met one step after max_steps (-1), next to the same run with
    a few more steps allowed (n): -1 must come from the run, not be answered blindly. (Not
    exactly n steps allowed: that edge is the check before this one.)"""
    late = _converging(rng, shift=-1)
    return _shuffled(rng, [late, {**late, "max_steps": late["max_steps"] + 5}])


def _diverging_and_converging(rng):
    return _shuffled(rng, [_diverging(rng), _random_converging(rng)])


def _least_squares(rng, m, d):
    X = rng.normal(size=(m, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=m)
    return X, y


def _random_sgd(rng):
    # batch_size never divides m, so the last batch of every epoch is smaller.
    while True:
        m, batch_size = int(rng.integers(11, 40)), int(rng.integers(2, 8))
        if m % batch_size:
            break
    d = int(rng.integers(2, 5))
    X, y = _least_squares(rng, m, d)
    return dict(X=X, y=y, w0=rng.normal(size=d), lr=0.05, batch_size=batch_size,
                epochs=int(rng.integers(2, 5)), seed=int(rng.integers(2**31)))


def _sgd_batch_one(rng):
    m, d = int(rng.integers(6, 15)), int(rng.integers(2, 4))
    X, y = _least_squares(rng, m, d)
    return dict(X=X, y=y, w0=np.zeros(d), lr=0.05, batch_size=1, epochs=2,
                seed=int(rng.integers(2**31)))


def _bad_sgd_input(rng):
    """y and w0 of wrong lengths, batch_size 0 (also with 0 epochs), negative epochs and two
    valid calls (one with 0 epochs), shuffled (each case: X, y, w0, batch_size, epochs)."""
    m, d = int(rng.integers(4, 10)), int(rng.integers(2, 4))
    X, y = _least_squares(rng, m, d)
    w0 = np.zeros(d)
    cases = [[X, np.append(y, 1.0), w0, 2, 1], [X, y, np.append(w0, 1.0), 2, 1],
             [X, y, w0, 0, 1], [X, y, w0, 0, 0], [X, y, w0, 2, -1],
             [X, y, w0, int(rng.integers(1, m + 1)), 1], [X, y, w0, 2, 0]]
    return dict(cases=[cases[k] for k in rng.permutation(len(cases))])


SMALL_X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0], [-1.0, 0.5], [0.5, -1.0]])
SMALL_Y = np.array([1.0, -1.0, 3.0, 0.0, 2.0])


def checks(v):
    A_demo, b_demo = np.array(v["A"], dtype=float), np.array(v["b"], dtype=float)
    x0, lr, lr_above = np.array(v["x0"], dtype=float), float(v["lr"]), float(v["lr_above"])
    limit = 2.0 / float(v["eig"][1])
    return [
        # q1: gradient descent
        Check("q1", "5 steps on the setup quadratic", "gradient_descent",
              lambda rng: dict(A=A_demo, b=b_demo, x0=x0, lr=lr, n_steps=5),
              points=0.25, tol={"path": PATH}),
        Check("q1", "5 steps from your notebook's own x0_demo on its A_demo, b_demo",
              "gradient_descent_on_notebook_data",
              lambda rng: dict(A=A_demo, b=b_demo, x0=x0, lr=lr, n_steps=5),
              points=0.25, tol={"path": PATH}),
        Check("q1", "0 steps give x0 as the only row", "gradient_descent",
              lambda rng: dict(A=A_demo, b=b_demo, x0=x0, lr=lr, n_steps=0),
              points=0.25, tol={"path": PATH}),
        Check("q1", "30 steps on a random quadratic", "gradient_descent", _random_quadratic,
              points=0.5, hidden=True, tol={"path": PATH}),
        Check("q1", "25 steps on a non-quadratic function", "gradient_descent_smooth", _smooth,
              points=0.5, hidden=True, tol={"path": PATH}),
        Check("q1", "2-D x0 and negative n_steps raise ValueError",
              "gradient_descent_cases", _bad_gd_input, points=0.25, hidden=True,
              tol=EXACT, validation=True),
        # q2: the largest stable learning rate
        Check("q2", "diagonal matrix diag(1, 4, 0.5)", "max_stable_lr",
              lambda rng: dict(A=np.diag([1.0, 4.0, 0.5])), points=0.25, tol={"lr_max": LR}),
        Check("q2", "the setup matrix A_demo", "max_stable_lr",
              lambda rng: dict(A=A_demo), points=0.25, tol={"lr_max": LR}),
        Check("q2", "non-square, non-symmetric and indefinite matrices raise ValueError",
              "max_stable_lr_invalid",
              lambda rng: dict(matrices={"non_square": np.ones((2, 3)),
                                         "non_symmetric": np.array([[2.0, 1.0], [0.0, 2.0]]),
                                         "indefinite": np.array([[1.0, 0.0], [0.0, -1.0]])}),
              points=0.25, tol=EXACT, validation=True),
        Check("q2", "random symmetric positive definite matrix", "max_stable_lr", _random_spd,
              points=0.5, hidden=True, tol={"lr_max": LR}),
        Check("q2", "converges below the bound and diverges above it", "stability",
              _stability, points=1.0, hidden=True, tol={"lr_max": LR}, judge="stability"),
        Check("q2", "matrix symmetric up to rounding is accepted", "max_stable_lr",
              _rounding_asymmetry, points=0.25, hidden=True, tol={"lr_max": LR}),
        Check("q2", "random invalid matrices raise ValueError", "max_stable_lr_invalid",
              _random_invalid, points=0.25, hidden=True, tol=EXACT, validation=True),
        Check("q2", "a 1 x 1 matrix, and large entries symmetric up to rounding",
              "max_stable_lr_each", _one_by_one_and_large, points=0.25, hidden=True,
              tol={"lr_max": LR}),
        # q3: steps to converge
        Check("q3", f"setup quadratic, lr = {lr:g}, tol = 1e-6", "steps_to_converge",
              lambda rng: _run(A=A_demo, b=b_demo, x0=x0, lr=lr, tol=1e-6, max_steps=1000),
              points=0.25, tol=EXACT),
        Check("q3", "x0 at the minimizer takes 0 steps", "steps_to_converge",
              lambda rng: _run(A=A_demo, b=b_demo, x0=np.linalg.solve(A_demo, b_demo), lr=lr,
                               tol=1e-6, max_steps=1000), points=0.25, tol=EXACT),
        Check("q3", f"lr = {lr_above:g} above the limit {limit:.3g} gives -1",
              "steps_to_converge",
              lambda rng: _run(A=A_demo, b=b_demo, x0=x0, lr=lr_above, tol=1e-6,
                               max_steps=1000), points=0.25, tol=EXACT),
        Check("q3", "random quadratic, learning rate and tolerance", "steps_to_converge",
              lambda rng: _run(**_random_converging(rng)), points=0.25, hidden=True,
              tol=EXACT),
        Check("q3", "tolerance first met exactly at max_steps", "steps_to_converge",
              lambda rng: _run(**_converging(rng)), points=0.25, hidden=True, tol=EXACT),
        Check("q3", "tolerance met one step after max_steps gives -1",
              "steps_to_converge_runs", _late_and_in_time, points=0.25, hidden=True,
              tol=EXACT),
        Check("q3", "random diverging run gives -1", "steps_to_converge_runs",
              _diverging_and_converging, points=0.25, hidden=True, tol=EXACT),
        Check("q3", "a gradient norm equal to tol does not count (< is strict)",
              "steps_to_converge", lambda rng: _run(**_exactly_tol(rng)), points=0.25,
              hidden=True, tol=EXACT),
        # q4: minibatch SGD
        Check("q4", "full batch is gradient descent", "minibatch_sgd",
              lambda rng: dict(X=SMALL_X, y=SMALL_Y, w0=np.zeros(2), lr=0.1, batch_size=5,
                               epochs=4, seed=0), points=0.5, tol={"path": PATH}),
        Check("q4", "one epoch of batches 2, 2, 1 on a small problem", "minibatch_sgd",
              lambda rng: dict(X=SMALL_X, y=SMALL_Y, w0=np.array([0.5, 0.5]), lr=0.1,
                               batch_size=2, epochs=1, seed=1), points=0.75, tol={"path": PATH}),
        Check("q4", "random data, batch size not dividing m, several epochs", "minibatch_sgd",
              _random_sgd, points=1.0, hidden=True, tol={"path": PATH}),
        Check("q4", "batch size 1 with a random generator", "minibatch_sgd", _sgd_batch_one,
              points=0.5, hidden=True, tol={"path": PATH}),
        Check("q4", "inconsistent shapes, batch_size 0, negative epochs raise ValueError",
              "minibatch_sgd_cases", _bad_sgd_input, points=0.25, hidden=True, tol=EXACT,
              validation=True),
    ]
