"""Reference solution: backpropagation through a 1-hidden-layer tanh/sigmoid network.

Conventions (from the course deck): examples are columns, X: (n_x, m), Y: (1, m),
Z1 = W1^T X + b1, A1 = tanh(Z1), Z2 = W2^T A1 + b2, A2 = sigmoid(Z2),
J = -(1/m) sum[y log A2 + (1 - y) log(1 - A2)].

Every function only calls functions of its own question, so the grader can paste a
question's functions into a notebook cell on their own.
"""
import numpy as np

# --- q1 -------------------------------------------------------------------------------

def sigmoid(z):
    """Logistic function 1 / (1 + exp(-z)), elementwise, without overflow."""
    z = np.asarray(z, dtype=float)
    # exp(-|z|) is in (0, 1], so neither branch can overflow for any finite z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    """d sigmoid / dz = sigmoid(z) (1 - sigmoid(z)), elementwise."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh_derivative(z):
    """d tanh / dz = 1 - tanh(z)^2, elementwise."""
    t = np.tanh(np.asarray(z, dtype=float))
    return 1.0 - t * t


# --- q2 -------------------------------------------------------------------------------

def forward(X, params):
    """Forward pass; returns (A2, cache) with cache keys Z1, A1, Z2, A2."""
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    # Same stable logistic as sigmoid(), inlined so this question stands alone.
    e = np.exp(-np.abs(Z2))
    A2 = np.where(Z2 >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    """Mean binary cross-entropy (natural log) as a Python float.

    A2 is clipped to [1e-12, 1 - 1e-12] so saturated outputs give a finite cost.
    Raises ValueError if A2 and Y differ in shape.
    """
    A2 = np.asarray(A2, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if A2.shape != Y.shape:
        raise ValueError(f"compute_cost: A2 has shape {A2.shape} but Y has shape {Y.shape}; "
                         "both must be (1, m)")
    m = Y.shape[-1]
    # float64 resolves 1 - 1e-12, so each example costs at most -log(1e-12) ~ 27.6,
    # even for a saturated wrong prediction.
    A = np.clip(A2, 1e-12, 1.0 - 1e-12)
    return float(-np.sum(Y * np.log(A) + (1.0 - Y) * np.log(1.0 - A)) / m)


# --- q3 -------------------------------------------------------------------------------

def backward(X, Y, params, cache):
    """Gradients of the mean cross-entropy: dict dW1, db1, dW2, db2 (params' shapes)."""
    m = X.shape[1]
    A1, A2 = cache["A1"], cache["A2"]
    # Sigmoid + cross-entropy: the sigmoid derivative cancels, dJ/dZ2 = (A2 - Y) / m.
    dZ2 = A2 - Y
    dW2 = A1 @ dZ2.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    # tanh'(Z1) written with the cached activation: 1 - tanh(Z1)^2 = 1 - A1^2.
    dZ1 = (params["W2"] @ dZ2) * (1.0 - A1 ** 2)
    dW1 = X @ dZ1.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


# --- q4 -------------------------------------------------------------------------------

def numerical_gradient(f, x, eps=1e-5):
    """Central differences (f(x+eps) - f(x-eps)) / (2 eps) of a scalar f() w.r.t. x.

    x is perturbed in place (f reads it) and always restored, even if f raises.
    Raises TypeError unless x is a floating-point ndarray: an integer array would
    silently truncate x + eps.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("numerical_gradient: x must be a floating-point numpy array that f "
                        f"reads, got {type(x).__name__} {getattr(x, 'dtype', '')}".rstrip())
    grad = np.zeros(x.shape, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = f()
            x[idx] = old - eps
            f_minus = f()
        finally:
            x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


# --- q5 -------------------------------------------------------------------------------

def update_parameters(params, grads, lr):
    """One gradient-descent step; returns a new dict and leaves params untouched."""
    return {k: params[k] - lr * grads["d" + k] for k in ("W1", "b1", "W2", "b2")}
