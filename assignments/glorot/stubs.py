# %% setup
import numpy as np

# Inputs for the experiment of question 4: {{ v.demo_n_in }} features, {{ v.demo_m }} examples (one per column).
rng = np.random.default_rng({{ v.demo_seed | py }})
X_demo = rng.normal(size=({{ v.demo_n_in | py }}, {{ v.demo_m | py }}))

# %% q1
def preactivation_variance(n_in, var_w, var_x):
    """Variance of z = sum_{i=1}^{n_in} w_i x_i.

    n_in: number of inputs (int >= 1); var_w, var_x: variances of each w_i and x_i.
    The w_i and x_i are all independent and have zero mean.
    Returns a float.
    """
    raise NotImplementedError

# %% q2
def glorot_variance(n_in, n_out):
    """Variance of the Glorot (Xavier) initialization for a layer with n_in inputs
    and n_out outputs.

    n_in, n_out: ints >= 1. Raises ValueError otherwise.
    Returns a float.
    """
    raise NotImplementedError


def glorot_uniform_limit(n_in, n_out):
    """Limit a such that U(-a, a) has the Glorot variance of glorot_variance(n_in, n_out).

    n_in, n_out: ints >= 1. Raises ValueError otherwise.
    Returns a float.
    """
    raise NotImplementedError

# %% q3
def glorot_uniform(n_in, n_out, rng):
    """Glorot-uniform weight matrix for Z = W^T X.

    n_in, n_out: ints >= 1 (ValueError otherwise); rng: np.random.Generator.
    Make exactly one call rng.uniform(low, high, size=(n_in, n_out)).
    Returns W: (n_in, n_out).
    """
    raise NotImplementedError


def glorot_normal(n_in, n_out, rng):
    """Glorot-normal weight matrix for Z = W^T X: zero mean and the Glorot variance.

    n_in, n_out: ints >= 1 (ValueError otherwise); rng: np.random.Generator.
    Make exactly one call rng.normal(loc, scale, size=(n_in, n_out)).
    Returns W: (n_in, n_out).
    """
    raise NotImplementedError

# %% q4
def activation_variances(init, n_layers, width, X, rng):
    """Per-layer variance of the activations of a deep tanh network without biases.

    init: function (n_in, n_out, rng) -> (n_in, n_out) weight matrix, e.g. glorot_normal.
    n_layers: int >= 1; width: units per layer; X: (n_in, m), one example per column;
    rng: np.random.Generator, passed to init.
    A_0 = X and A_l = tanh(W_l^T A_{l-1}) for l = 1..n_layers, with
    W_1 = init(n_in, width, rng) and then W_l = init(width, width, rng), in layer order.
    Returns a list of n_layers Python floats: np.var over all entries of A_1, ..., A_L.
    Raises ValueError if X is not 2-D or n_layers < 1.
    """
    raise NotImplementedError
