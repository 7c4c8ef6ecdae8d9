"""Reference solution: variance propagation and Glorot (Xavier) initialization.

Conventions (from the course deck): W has shape (n_in, n_out) and Z = W^T X, with
X: (n_in, m), one example per column. Random draws come from a numpy Generator with
exactly one draw call per matrix, so a seed reproduces the reference bit for bit.
"""
import numpy as np


# --- q1 -------------------------------------------------------------------------------

def preactivation_variance(n_in, var_w, var_x):
    """Var(z) = n_in Var(w) Var(x) for z = sum_i w_i x_i, all independent, zero mean."""
    return float(n_in * var_w * var_x)


# --- q2 -------------------------------------------------------------------------------

def glorot_variance(n_in, n_out):
    """Glorot weight variance 2 / (n_in + n_out). Raises ValueError for fans < 1."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"glorot_variance: n_in and n_out must be >= 1, got {n_in}, {n_out}")
    return 2.0 / (n_in + n_out)


def glorot_uniform_limit(n_in, n_out):
    """Limit a of U(-a, a) with variance a^2 / 3 = 2 / (n_in + n_out): sqrt(6 / (n_in + n_out))."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"glorot_uniform_limit: n_in and n_out must be >= 1, "
                         f"got {n_in}, {n_out}")
    return float(np.sqrt(6.0 / (n_in + n_out)))


# --- q3 -------------------------------------------------------------------------------

def glorot_uniform(n_in, n_out, rng):
    """(n_in, n_out) weights from U(-a, a), a = sqrt(6 / (n_in + n_out)); one rng.uniform call."""
    if n_in < 1 or n_out < 1:
        raise ValueError(f"glorot_uniform: n_in and n_out must be >= 1, got {n_in}, {n_out}")
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    """(n_in, n_out) weights from N(0, 2 / (n_in + n_out)); one rng.normal call.

    numpy's scale is the standard deviation, so it gets the square root of the variance.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"glorot_normal: n_in and n_out must be >= 1, got {n_in}, {n_out}")
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))


# --- q4 -------------------------------------------------------------------------------

def activation_variances(init, n_layers, width, X, rng):
    """Variance of A_l = tanh(W_l^T A_{l-1}) for l = 1..n_layers, A_0 = X (n_in, m).

    W_1 = init(n_in, width, rng), then W_l = init(width, width, rng), drawn in layer
    order; biases are zero. Returns a list of n_layers Python floats (np.var over all
    entries of A_l). Raises ValueError if X is not 2-D or n_layers < 1.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"activation_variances: X must be 2-D (n_in, m), got shape {X.shape}")
    if n_layers < 1:
        raise ValueError(f"activation_variances: n_layers must be >= 1, got {n_layers}")
    A = X
    variances = []
    for _ in range(n_layers):
        W = init(A.shape[0], width, rng)
        A = np.tanh(W.T @ A)
        variances.append(float(np.var(A)))
    return variances
