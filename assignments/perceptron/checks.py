"""Perceptron checks: inputs and tolerances (trusted side). Points add up per question.

Input validation (accuracy's ValueError) is 0.5 of the 10 points (Check.validation): the
assignment grades the perceptron, not defensive programming. Question 3 is graded on its own:
better_model may call predict and accuracy, so its probes stand those in with the values
given here for the check's models (probes.py), and a mistake in question 1 or 2 costs that
question's points only. Boundaries: a single example (accuracy), an empty set (ValueError),
train_perceptron's default learning rate.
"""

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

EXERCISE_X = np.array([[1, 1], [3, 0.5], [2, 3], [2.5, 1.5], [1.5, 2], [2.5, 4], [3.5, 1.5],
                       [4, 3]])
# With these labels f1 is right on 6 of 8 points and f2 on all 8: the exercise has an answer.
EXERCISE_Y = np.array([-1, -1, 1, 1, 1, 1, 1, 1])

# The course's exercise is the canonical variant; per-student variants redraw the test set and
# the two models (see variant()), and the notebook text and setup cell print them.
CANONICAL = {"X_test": EXERCISE_X, "y_test": EXERCISE_Y, "w1": [2.0, 2.0], "b1": -9.0,
             "w2": [3.4, 5.0], "b2": -14.0, "seed": True}
# The text's example of the sign(0) = +1 convention: w = (1, 1), b = -4 puts (2.5, 1.5) and
# (3, 1) exactly on the boundary (integer sums: no rounding), where np.sign gives 0.
ON_BOUNDARY = dict(X=np.array([[2.5, 1.5], [1.0, 1.0], [3.0, 1.0], [4.0, 3.0]]),
                   w=np.array([1.0, 1.0]), b=-4.0)


def variant(rng):
    """Eight points on a half-unit grid, labelled by a random line (four of each class), and
    two candidate perceptrons near that line that disagree on at least one point."""
    cells = rng.choice(81, size=8, replace=False)
    X = np.column_stack([0.5 + (cells // 9) * 0.5, 0.5 + (cells % 9) * 0.5])
    w_true = np.round(rng.uniform(0.5, 3.0, size=2), 1)
    order = np.argsort(X @ w_true, kind="stable")
    y = np.empty(8, dtype=int)
    y[order[:4]], y[order[4:]] = -1, 1
    while True:
        models = []
        for _ in range(2):
            w = np.round(w_true + rng.normal(0, 0.6, size=2), 1)
            b = float(np.round(-np.median(X @ w) + rng.normal(0, 1.0), 1))
            models.append((w, b))
        preds = [np.where(X @ w + b >= 0, 1, -1) for w, b in models]
        if not np.array_equal(preds[0], preds[1]):
            break
    (w1, b1), (w2, b2) = models
    return {"X_test": X, "y_test": y, "w1": w1.tolist(), "b1": b1, "w2": w2.tolist(), "b2": b2,
            "seed": False}
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


def _single_examples(rng):
    """Accuracy of a single example (m = 1), right and wrong, in a random order."""
    label = int(rng.choice([-1, 1]))
    cases = [[[label], [label]], [[label], [-label]], [[-label], [-label]], [[-label], [label]]]
    return dict(cases=[cases[k] for k in rng.permutation(4)])


def _mismatch(rng):
    """Two calls with lengths that differ, one with two empty arrays (m = 0) and one with equal
    lengths, in a random order: which calls must raise depends on the inputs, not on a fixed
    answer a forged report could give."""
    m = int(rng.integers(5, 15))
    cases = [[rng.choice([-1, 1], size=m), rng.choice([-1, 1], size=m + 3)],
             [rng.choice([-1, 1], size=m + 2), rng.choice([-1, 1], size=m)],
             [np.zeros(0, dtype=int), np.zeros(0, dtype=int)],
             [rng.choice([-1, 1], size=m), rng.choice([-1, 1], size=m)]]
    return dict(cases=[cases[k] for k in rng.permutation(4)])


def _labels(X, w, b):
    return np.where(np.asarray(X, dtype=float) @ np.asarray(w, dtype=float) + b >= 0, 1, -1)


def _models(X, y, names, weights, biases):
    """A better_model case with what predict and accuracy give for its models (`given`: rows
    [w, b, labels] and [labels, accuracy]), which stand in for the student's own during the
    probe, so question 3 does not depend on questions 1 and 2."""
    labels = [_labels(X, w, b) for w, b in zip(weights, biases)]
    given = {"predict": [[w, b, p] for w, b, p in zip(weights, biases, labels)],
             "accuracy": [[p, float(np.mean(p == y))] for p in labels]}
    return dict(X=X, y=y, names=names, weights=weights, biases=biases, given=given)


def _differing_models(rng):
    # Redraw until the three models have distinct accuracies, so exactly one name is right.
    X = _points(rng, 60, 3)
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) + 0.3 >= 0, 1, -1)
    while True:
        weights = [np.round(rng.normal(size=3), 2) for _ in range(3)]
        biases = [float(np.round(rng.normal(), 2)) for _ in range(3)]
        accs = [np.mean(_labels(X, w, b) == y) for w, b in zip(weights, biases)]
        if len(set(accs)) == 3:
            return _models(X, y, ["a", "b", "c"], weights, biases)


def _tied_models(rng):
    """A tie between the two best of three models, next to three models of which one is best
    (in a random order): "tie" must come from the accuracies, not be answered blindly."""
    X = _points(rng, 30, 2)
    y = np.where(X[:, 0] >= 0, 1, -1)
    w = np.array([1.0, 0.0])
    tied = _models(X, y, ["left", "right", "worse"], [w, 2 * w, -w], [0.0, 0.0, 0.0])
    cases = [tied, _differing_models(rng)]
    return dict(cases=[cases[k] for k in rng.permutation(2)])


def _separable(rng):
    X = _points(rng, 30, 3)
    w_true = np.array([2.0, -1.0, 1.0])
    margin = X @ w_true + 0.5
    keep = np.abs(margin) > 1.0  # a margin guarantees convergence within a few epochs
    X = X[keep]
    return dict(X=X, y=np.where(X @ w_true + 0.5 >= 0, 1, -1), epochs=30, lr=1.0)


def _xor(rng):
    """XOR moved, scaled and shuffled at random (two decimals): never separable, so never
    converging, but the weights and mistake counts depend on the points, not only on the
    fact that XOR cannot be learned."""
    order = rng.permutation(4)
    X = np.round(XOR_X[order] * rng.uniform(0.5, 3.0) + rng.uniform(-1.0, 1.0, size=2), 2)
    return dict(X=X, y=XOR_Y[order], epochs=25, lr=1.0)


def _random_lr(rng):
    X = _points(rng, 25, 4)
    return dict(X=X, y=rng.choice([-1, 1], size=25), epochs=5, lr=0.5)


def _default_lr(rng):
    # Random labels: many updates, each of the default size (lr = 1).
    X = _points(rng, 20, 3)
    return dict(X=X, y=rng.choice([-1, 1], size=20), epochs=4)


def checks(v):
    X, Y = np.asarray(v["X_test"], dtype=float), np.asarray(v["y_test"])
    F1 = (np.asarray(v["w1"], dtype=float), float(v["b1"]))
    F2 = (np.asarray(v["w2"], dtype=float), float(v["b2"]))
    f1_pred = _labels(X, *F1)
    exercise = _models(X, Y, ["f1", "f2"], [F1[0], F2[0]], [F1[1], F2[1]])
    train_tol = {"w": WEIGHTS, "b": WEIGHTS, "mistakes": EXACT}
    return [
        Check("q1", "the exercise's test set with f1", "predict",
              lambda rng: dict(X=X, w=F1[0], b=F1[1]), points=0.5, tol=EXACT),
        Check("q1", "the exercise's test set with f2", "predict",
              lambda rng: dict(X=X, w=F2[0], b=F2[1]), points=0.5, tol=EXACT),
        Check("q1", "w = (1, 1), b = -4: points on the boundary get +1", "predict",
              lambda rng: dict(ON_BOUNDARY), points=0.25, tol=EXACT),
        Check("q1", "random points in 5-D", "predict", _random_predict, points=0.5, hidden=True,
              tol=EXACT),
        Check("q1", "boundary cases of random models", "predict", _boundary, points=0.25, hidden=True,
              tol=EXACT),
        Check("q2", "the exercise's labels against f1's predictions", "accuracy",
              lambda rng: dict(y_true=Y, y_pred=f1_pred),
              points=0.5, tol=Tol(atol=1e-12)),
        Check("q2", "length mismatch raises ValueError", "accuracy_mismatch",
              lambda rng: dict(y_true=Y, y_pred=Y[:5]), points=0.25, validation=True),
        Check("q2", "random labels", "accuracy", _random_accuracy, points=0.5, hidden=True,
              tol=Tol(atol=1e-12)),
        Check("q2", "a single example", "accuracies", _single_examples, points=0.5,
              hidden=True, tol=Tol(atol=1e-12)),
        Check("q2", "random length mismatch and empty arrays", "accuracy_cases", _mismatch,
              points=0.25, hidden=True, validation=True),
        Check("q3", "f1 against f2 on the exercise's test set", "better_model",
              lambda rng: dict(exercise), points=0.5),
        Check("q3", "f1 against f2 on the notebook's own test set",
              "better_model_on_notebook_data", lambda rng: dict(exercise), points=0.5),
        Check("q3", "three random models", "better_model", _differing_models, points=0.5,
              hidden=True),
        Check("q3", "two equally good models", "better_model_cases", _tied_models, points=0.5,
              hidden=True),
        Check("q4", "the exercise's test set, 10 epochs", "train_perceptron",
              lambda rng: dict(X=X, y=Y, epochs=10, lr=1.0), points=1.0, tol=train_tol),
        Check("q4", "separable data converges", "train_perceptron", _separable, points=0.75,
              hidden=True, tol=train_tol),
        Check("q4", "XOR never converges", "train_perceptron", _xor, points=0.75, hidden=True,
              tol=train_tol),
        Check("q4", "learning rate 0.5 on random labels", "train_perceptron", _random_lr,
              points=0.75, hidden=True, tol=train_tol),
        Check("q4", "the default learning rate", "train_perceptron_default_lr", _default_lr,
              points=0.75, hidden=True, tol=train_tol),
    ]
