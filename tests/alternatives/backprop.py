"""Correct backprop solutions written unlike the reference (tests/test_diagnoses.py): each must
get full marks and name no mistake; WITHOUT_VALIDATION ones (no ValueError in compute_cost,
no TypeError and no try/finally in numerical_gradient) may lose only those checks' points, and
name nothing either: not "the 1/m factor is missing", not "divided by eps instead of 2*eps"."""

SOLUTIONS = {
    # Other formulas for the activations (a masked stable sigmoid, 1/cosh^2), np.mean,
    # einsum, np.nditer with a while loop, an in-place step on copies.
    "einsum": {
        "q1": '''
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    out[~pos] = np.exp(z[~pos]) / (1 + np.exp(z[~pos]))
    return out


def sigmoid_derivative(z):
    e = np.exp(-np.abs(np.asarray(z, dtype=float)))
    return e / (1 + e) ** 2


def tanh_derivative(z):
    return 1 / np.cosh(np.asarray(z, dtype=float)) ** 2
''',
        "q2": '''
import numpy as np


def forward(X, params):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = np.dot(W1.T, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2.T, A1) + b2
    A2 = 0.5 * (1 + np.tanh(Z2 / 2))
    return A2, dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2)


def compute_cost(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y must have the same shape")
    p = np.clip(A2, 1e-12, 1 - 1e-12)
    return float(np.mean(-(Y * np.log(p) + (1 - Y) * np.log(1 - p))))
''',
        "q3": '''
import numpy as np


def backward(X, Y, params, cache):
    m = Y.shape[1]
    delta2 = (cache["A2"] - Y) / m
    delta1 = np.einsum("hk,km->hm", params["W2"], delta2) * (1 - np.tanh(cache["Z1"]) ** 2)
    return {"dW1": np.einsum("im,hm->ih", X, delta1), "db1": delta1.sum(1, keepdims=True),
            "dW2": np.einsum("hm,km->hk", cache["A1"], delta2),
            "db2": delta2.sum(1, keepdims=True)}
''',
        "q4": '''
import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        raise TypeError("x must be a float array")
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        keep = x[i]
        try:
            x[i] = keep + eps
            up = f()
            x[i] = keep - eps
            down = f()
        finally:
            x[i] = keep
        g[i] = (up - down) / eps / 2
        it.iternext()
    return g
''',
        "q5": '''
def update_parameters(params, grads, lr):
    new = {}
    for name, value in params.items():
        new[name] = value.copy()
        new[name] -= lr * grads["d" + name]
    return new
''',
    },
    # Later functions call earlier ones (forward calls sigmoid, backward calls
    # tanh_derivative), the cost and the gradients summed example by example in Python loops,
    # scipy's expit, a numpy scalar cost, numerical_gradient over flat indices.
    "loops": {
        "q1": '''
import numpy as np
from scipy.special import expit


def sigmoid(z):
    return expit(np.asarray(z, dtype=float))


def sigmoid_derivative(z):
    s = expit(np.asarray(z, dtype=float))
    return s - s ** 2


def tanh_derivative(z):
    t = np.tanh(z)
    return (1 - t) * (1 + t)
''',
        "q2": '''
import numpy as np


def forward(X, params):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    A2, Y = np.asarray(A2, dtype=float), np.asarray(Y, dtype=float)
    if A2.shape != Y.shape:
        raise ValueError(f"A2 is {A2.shape} but Y is {Y.shape}")
    m = Y.shape[1]
    total = np.float64(0.0)
    for j in range(m):
        a = min(max(A2[0, j], 1e-12), 1 - 1e-12)
        total -= Y[0, j] * np.log(a) + (1 - Y[0, j]) * np.log(1 - a)
    return total / m
''',
        "q3": '''
import numpy as np


def backward(X, Y, params, cache):
    n_x, m = X.shape
    W2 = params["W2"]
    grads = {"dW1": np.zeros(params["W1"].shape), "db1": np.zeros(params["b1"].shape),
             "dW2": np.zeros(W2.shape), "db2": np.zeros(params["b2"].shape)}
    slope = tanh_derivative(cache["Z1"])
    for j in range(m):
        dz2 = cache["A2"][0, j] - Y[0, j]
        grads["dW2"][:, 0] += cache["A1"][:, j] * dz2
        grads["db2"][0, 0] += dz2
        dz1 = W2[:, 0] * dz2 * slope[:, j]
        grads["dW1"] += np.outer(X[:, j], dz1)
        grads["db1"][:, 0] += dz1
    return {key: value / m for key, value in grads.items()}
''',
        "q4": '''
import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    if not isinstance(x, np.ndarray) or x.dtype not in (np.float16, np.float32, np.float64):
        raise TypeError("numerical_gradient needs a float ndarray")
    grad = np.empty(x.shape)
    flat = x.reshape(-1)  # a view: writing it changes x
    out = grad.reshape(-1)
    for i in range(flat.size):
        saved = float(flat[i])
        try:
            flat[i] = saved + eps
            high = f()
            flat[i] = saved - eps
            low = f()
        finally:
            flat[i] = saved
        out[i] = (high - low) / (2 * eps)
    return grad
''',
        "q5": '''
def update_parameters(params, grads, lr):
    return {name: value - lr * grads[f"d{name}"] for name, value in params.items()}
''',
    },
}

WITHOUT_VALIDATION = {
    "bare": {
        "q2": '''
import numpy as np


def forward(X, params):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    A = np.clip(A2, 1e-12, 1 - 1e-12)
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / Y.shape[1])
''',
        "q4": '''
import numpy as np


def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = f()
        x[idx] = old - eps
        f_minus = f()
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad
''',
    },
}
