"""Perceptron checks: inputs and tolerances (trusted side). Points add up per question."""

import numpy as np

from autograder.checklib import EXACT, Tol
from autograder.spec import Check

SEED_X = np.array([[1, 1], [3, 0.5], [2, 3], [2.5, 1.5], [1.5, 2], [2.5, 4], [3.5, 1.5], [4, 3]])
SEED_Y = np.array([-1, -1, -1, -1, 1, 1, 1, 1])
F1 = (np.array([2.0, 2.0]), -9.0)
F2 = (np.array([3.4, 5.0]), -14.0)
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([-1, 1, 1, -1])
WEIGHTS = Tol(atol=1e-9, rtol=1e-9)


def _points(rng, m, d):
    # Two decimals keep every update exactly reproducible whatever the summation order.
    return np.round(rng.uniform(-5, 5, size=(m, d)), 2)


def _random_predict(rng):
    return dict(X=_points(rng, 40, 5), w=np.round(rng.normal(size=5), 2),
                b=float(np.round(rng.normal(), 2)))


def _boundary(rng):
    # Points exactly on w.x + b = 0 (integers: no rounding) must get +1.
    X = rng.integers(-4, 5, size=(12, 2)).astype(float)
    w = np.array([1.0, -1.0])
    b = float(-(X[0] @ w))
    X[::2] = X[0] + np.outer(np.arange(6), [1.0, 1.0])
    return dict(X=X, w=w, b=b)


def _random_accuracy(rng):
    m = int(rng.integers(20, 60))
    return dict(y_true=rng.choice([-1, 1], size=m), y_pred=rng.choice([-1, 1], size=m))


def _mismatch(rng):
    m = int(rng.integers(5, 15))
    return dict(y_true=rng.choice([-1, 1], size=m), y_pred=rng.choice([-1, 1], size=m + 3))


def _differing_models(rng):
    # Redraw until the three models have distinct accuracies, so exactly one name is right.
    X = _points(rng, 60, 3)
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.3 >= 0, 1, -1)
    while True:
        weights = [np.round(rng.normal(size=3), 2) for _ in range(3)]
        biases = [float(np.round(rng.normal(), 2)) for _ in range(3)]
        accs = [np.mean(np.where(X @ w + b >= 0, 1, -1) == y) for w, b in zip(weights, biases)]
        if len(set(accs)) == 3:
            return dict(X=X, y=y, names=["a", "b", "c"], weights=weights, biases=biases)


def _tied_models(rng):
    X = _points(rng, 30, 2)
    y = np.where(X[:, 0] >= 0, 1, -1)
    w = np.array([1.0, 0.0])
    return dict(X=X, y=y, names=["left", "right", "worse"], weights=[w, 2 * w, -w],
                biases=[0.0, 0.0, 0.0])


def _separable(rng):
    X = _points(rng, 30, 3)
    w_true = np.array([2.0, -1.0, 1.0])
    margin = X @ w_true + 0.5
    keep = np.abs(margin) > 1.0  # a margin guarantees convergence within a few epochs
    X = X[keep]
    return dict(X=X, y=np.where(X @ w_true + 0.5 >= 0, 1, -1), epochs=30, lr=1.0)


def _random_lr(rng):
    X = _points(rng, 25, 4)
    return dict(X=X, y=rng.choice([-1, 1], size=25), epochs=5, lr=0.5)


def checks():
    train_tol = {"w": WEIGHTS, "b": WEIGHTS, "mistakes": EXACT}
    return [
        Check("q1", "seed test set with f1", "predict", lambda rng: dict(X=SEED_X, w=F1[0], b=F1[1]),
              points=0.5, tol=EXACT),
        Check("q1", "seed test set with f2", "predict", lambda rng: dict(X=SEED_X, w=F2[0], b=F2[1]),
              points=0.5, tol=EXACT),
        Check("q1", "random points in 5-D", "predict", _random_predict, points=0.5, hidden=True,
              tol=EXACT),
        Check("q1", "points on the boundary", "predict", _boundary, points=0.5, hidden=True,
              tol=EXACT),
        Check("q2", "seed labels against f1's predictions", "accuracy",
              lambda rng: dict(y_true=SEED_Y, y_pred=np.array([-1, -1, 1, -1, -1, 1, 1, 1])),
              points=0.5, tol=Tol(atol=1e-12)),
        Check("q2", "length mismatch raises ValueError", "accuracy_mismatch",
              lambda rng: dict(y_true=SEED_Y, y_pred=SEED_Y[:5]), points=0.5),
        Check("q2", "random labels", "accuracy", _random_accuracy, points=0.5, hidden=True,
              tol=Tol(atol=1e-12)),
        Check("q2", "random length mismatch", "accuracy_mismatch", _mismatch, points=0.5,
              hidden=True),
        Check("q3", "f1 against f2 on the seed test set", "better_model",
              lambda rng: dict(X=SEED_X, y=SEED_Y, names=["f1", "f2"], weights=[F1[0], F2[0]],
                               biases=[F1[1], F2[1]]), points=1.0),
        Check("q3", "three random models", "better_model", _differing_models, points=0.5,
              hidden=True),
        Check("q3", "two equally good models", "better_model", _tied_models, points=0.5,
              hidden=True),
        Check("q4", "seed test set, 10 epochs", "train_perceptron",
              lambda rng: dict(X=SEED_X, y=SEED_Y, epochs=10, lr=1.0), points=1.0, tol=train_tol),
        Check("q4", "separable data converges", "train_perceptron", _separable, points=1.0,
              hidden=True, tol=train_tol),
        Check("q4", "XOR never converges", "train_perceptron",
              lambda rng: dict(X=XOR_X, y=XOR_Y, epochs=25, lr=1.0), points=1.0, hidden=True,
              tol=train_tol),
        Check("q4", "learning rate 0.5 on random labels", "train_perceptron", _random_lr,
              points=1.0, hidden=True, tol=train_tol),
    ]
