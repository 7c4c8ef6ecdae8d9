# %% setup
import numpy as np

# The test set: eight points in the plane and their labels.
X_test = np.array({{ v.X_test | py }})
y_test = np.array({{ v.y_test | py }})

# The two given perceptrons f(x) = sign(w . x + b).
models = {"f1": (np.array({{ v.w1 | py }}), {{ v.b1 | py }}),
          "f2": (np.array({{ v.w2 | py }}), {{ v.b2 | py }})}

# %% q1
def predict(X, w, b):
    """Labels of a perceptron sign(X @ w + b), with sign(0) taken as +1.

    X: (m, d) points, one per row; w: (d,) weights; b: scalar bias.
    Returns an (m,) array of +1 / -1.
    """
    raise NotImplementedError


# %% q2
def accuracy(y_true, y_pred):
    """Fraction of positions where y_pred equals y_true, as a float in [0, 1].

    y_true, y_pred: (m,) arrays of labels.
    Raises ValueError when the lengths differ (or m == 0).
    """
    raise NotImplementedError


# %% q3
def better_model(X, y, models):
    """Name of the model with the highest accuracy on (X, y), or "tie" if the best are equal.

    X: (m, d); y: (m,) labels in {+1, -1}; models: dict name -> (w, b).
    """
    raise NotImplementedError


# %% q4
def train_perceptron(X, y, epochs, lr=1.0):
    """Rosenblatt's online perceptron rule.

    X: (m, d); y: (m,) labels in {+1, -1}; epochs: passes over the data; lr: learning rate.
    w (d,) and b start at 0; samples are visited in the given order; on a mistake,
    i.e. y_i * (w . x_i + b) <= 0, update w += lr * y_i * x_i and b += lr * y_i.
    Returns (w, b, mistakes) where mistakes[e] is the number of updates in epoch e.
    """
    raise NotImplementedError
