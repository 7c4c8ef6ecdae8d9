"""Perceptron probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs.
"""

import numpy as np

from checklib import raised, unpack


def predict(ns, X, w, b):
    return {"y": ns["predict"](X, w, b)}


def accuracy(ns, y_true, y_pred):
    return {"accuracy": ns["accuracy"](y_true, y_pred)}


def accuracy_mismatch(ns, y_true, y_pred):
    return {"raises": raised(ns["accuracy"], y_true, y_pred)}


def accuracy_cases(ns, cases):
    """What accuracy raised, if anything, on each [y_true, y_pred] of cases."""
    return {"raises": [raised(ns["accuracy"], y_true, y_pred) for y_true, y_pred in cases]}


def better_model(ns, X, y, names, weights, biases):
    models = {name: (np.array(w), float(b)) for name, w, b in zip(names, weights, biases)}
    return {"best": ns["better_model"](X, y, models)}


def better_model_cases(ns, cases):
    """better_model on each case (the keyword arguments of the better_model probe)."""
    return {"best": [better_model(ns, **case)["best"] for case in cases]}


def train_perceptron(ns, X, y, epochs, lr):
    w, b, mistakes = unpack(ns["train_perceptron"](X, y, epochs, lr=lr), 3,
                            "(w, b, mistakes)")
    return {"w": w, "b": b, "mistakes": np.asarray(mistakes, dtype=float)}


def better_model_on_notebook_data(ns, X, y, names, weights, biases):
    """better_model on the notebook's own X_test / y_test / models (the student's variant);
    the inputs are that variant's numbers, used where the notebook does not define them (as
    in the reference). A notebook carrying another student's numbers answers for those."""
    models = {name: (np.array(w), float(b)) for name, w, b in zip(names, weights, biases)}
    return {"best": ns["better_model"](ns.get("X_test", X), ns.get("y_test", y),
                                       ns.get("models", models))}
