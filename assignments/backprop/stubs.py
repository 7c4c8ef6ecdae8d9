# %% setup
import numpy as np

# Toy data: two features, label 1 when both have the same sign (not linearly separable).
rng = np.random.default_rng({{ v.toy_seed }})
X_toy = rng.normal(size=(2, 200))
Y_toy = (X_toy[0:1] * X_toy[1:2] > 0).astype(float)

# The small network of the public checks:
# n_x = {{ v.n_x }} features, n_h = {{ v.n_h }} hidden units, m = {{ v.m }} examples.
X_small = np.array({{ v.X | py }})
Y_small = np.array({{ v.Y | py }})
params_small = {"W1": np.array({{ v.params.W1 | py }}),
                "b1": np.array({{ v.params.b1 | py }}),
                "W2": np.array({{ v.params.W2 | py }}),
                "b2": np.array({{ v.params.b2 | py }})}

# %% q1
def sigmoid(z):
    """Logistic function, elementwise.

    z: float or ndarray of any shape.
    Returns an array of the same shape with values in [0, 1]; must not overflow for
    large |z| (e.g. z = -1000).
    """
    raise NotImplementedError


def sigmoid_derivative(z):
    """Derivative of sigmoid with respect to its input z, elementwise.

    z: float or ndarray of any shape (the pre-activation, not sigmoid(z)).
    Returns an array of the same shape.
    """
    raise NotImplementedError


def tanh_derivative(z):
    """Derivative of tanh with respect to its input z, elementwise.

    z: float or ndarray of any shape (the pre-activation, not tanh(z)).
    Returns an array of the same shape.
    """
    raise NotImplementedError

# %% q2
def forward(X, params):
    """Forward pass of the network Z1 = W1^T X + b1, A1 = tanh(Z1),
    Z2 = W2^T A1 + b2, A2 = sigmoid(Z2).

    X: (n_x, m), one example per column.
    params: dict with W1 (n_x, n_h), b1 (n_h, 1), W2 (n_h, 1), b2 (1, 1).
    Returns (A2, cache): A2 (1, m); cache is a dict with keys "Z1", "A1" (n_h, m)
    and "Z2", "A2" (1, m).
    """
    raise NotImplementedError


def compute_cost(A2, Y):
    """Mean binary cross-entropy J = -(1/m) sum[Y log A2 + (1 - Y) log(1 - A2)].

    A2: (1, m) predicted probabilities; Y: (1, m) labels in {0, 1}.
    Natural logarithm. Clip A2 to [1e-12, 1 - 1e-12] first so the cost is finite
    when A2 is exactly 0 or 1.
    Returns a Python float. Raises ValueError if A2 and Y have different shapes.
    """
    raise NotImplementedError

# %% q3
def backward(X, Y, params, cache):
    """Gradients of the cost J of compute_cost with respect to the parameters.

    X: (n_x, m); Y: (1, m); params as in forward; cache as returned by forward.
    Returns a dict with "dW1" (n_x, n_h), "db1" (n_h, 1), "dW2" (n_h, 1), "db2" (1, 1):
    each gradient has the shape of its parameter.
    """
    raise NotImplementedError

# %% q4
def numerical_gradient(f, x, eps=1e-5):
    """Central-difference estimate of the gradient of a scalar function.

    f: callable with no arguments returning a float; it reads the array x.
    x: float ndarray of any shape. Perturb x in place one entry at a time
    (x[i] + eps, then x[i] - eps), call f, and restore x[i] afterwards, also if f
    raises. Raises TypeError if x is not a floating-point ndarray.
    Returns an array of x's shape with (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    """
    raise NotImplementedError

# %% q5
def update_parameters(params, grads, lr):
    """One gradient-descent step on W1, b1, W2, b2.

    params: dict as in forward; grads: dict as returned by backward; lr: float > 0.
    Returns a new dict with the same keys and shapes; params is left unchanged.
    """
    raise NotImplementedError
