"""Correct perceptron solutions written unlike the reference (tests/test_diagnoses.py): each
must get full marks and name no mistake; WITHOUT_VALIDATION ones may lose only the points of
accuracy's ValueError checks, and name nothing either."""

SOLUTIONS = {
    # Python loops over the rows and examples, plain floats and ints.
    "loops": {
        "q1": '''
import numpy as np


def predict(X, w, b):
    labels = []
    for x in X:
        activation = b
        for xj, wj in zip(x, w):
            activation += xj * wj
        labels.append(1 if activation >= 0 else -1)
    return np.array(labels)
''',
        "q2": '''
def accuracy(y_true, y_pred):
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred have different lengths")
    if len(y_true) == 0:
        raise ValueError("no labels")
    right = 0
    for t, p in zip(y_true, y_pred):
        if t == p:
            right += 1
    return right / len(y_true)
''',
        # Scores computed inline (no call to predict or accuracy), the tie found by counting.
        "q3": '''
import numpy as np


def better_model(X, y, models):
    scores = {}
    for name, (w, b) in models.items():
        right = sum(1 for x, label in zip(X, y) if (1 if x @ w + b >= 0 else -1) == label)
        scores[name] = right / len(y)
    best = max(scores.values())
    winners = [name for name in scores if scores[name] == best]
    if len(winners) > 1:
        return "tie"
    return winners[0]
''',
        "q4": '''
import numpy as np


def train_perceptron(X, y, epochs, lr=1.0):
    m, d = len(X), len(X[0])
    w = [0.0] * d
    b = 0.0
    mistakes = []
    for epoch in range(epochs):
        updates = 0
        for i in range(m):
            margin = y[i] * (sum(w[j] * X[i][j] for j in range(d)) + b)
            if margin <= 0:
                for j in range(d):
                    w[j] = w[j] + lr * y[i] * X[i][j]
                b = b + lr * y[i]
                updates += 1
        mistakes.append(updates)
    return np.array(w), b, mistakes
''',
    },
    # numpy all the way: scalars returned as np.float64 / np.int64, in-place updates, the
    # accuracies compared after sorting, better_model calling predict and accuracy.
    "numpy": {
        "q1": '''
import numpy as np


def predict(X, w, b):
    return np.where(np.dot(X, w) + b < 0, -1, 1)
''',
        "q2": '''
import numpy as np


def accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.size == 0 or y_true.shape != y_pred.shape:
        raise ValueError(f"cannot compare {y_true.shape} labels with {y_pred.shape}")
    return np.mean(y_true == y_pred)
''',
        "q3": '''
def better_model(X, y, models):
    scores = {name: accuracy(y, predict(X, w, b)) for name, (w, b) in models.items()}
    ranked = sorted(scores.values(), reverse=True)
    if len(ranked) > 1 and ranked[0] == ranked[1]:
        return "tie"
    return max(scores, key=scores.get)
''',
        "q4": '''
import numpy as np


def train_perceptron(X, y, epochs, lr=1.0):
    X = np.asarray(X, dtype=np.float64)
    w = np.zeros(X.shape[1])
    b = np.float64(0)
    mistakes = np.zeros(epochs, dtype=np.int64)
    for e in range(epochs):
        for xi, yi in zip(X, y):
            if yi * (np.dot(w, xi) + b) <= 0:
                w += lr * yi * xi
                b += lr * yi
                mistakes[e] += 1
    return w, b, mistakes
''',
    },
}

# Right mathematics, no ValueError of their own: numpy's broadcasting error still rejects
# different lengths in the first, nothing rejects an empty set; the second truncates to the
# shorter array and divides by zero on an empty one.
WITHOUT_VALIDATION = {
    "numpy_mean": {
        "q2": '''
import numpy as np


def accuracy(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
''',
    },
    "zip": {
        "q2": '''
def accuracy(y_true, y_pred):
    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)
''',
    },
}
