"""Correct glorot solutions written differently from the reference (tests/test_diagnoses.py):
each gets full marks and names no mistake. WITHOUT_VALIDATION has correct mathematics and no
input validation: it loses at most the validation points of those questions.

The samplers make the one draw call the docstrings prescribe (the two prescribed-draw checks
compare draws); how they get the limit or the standard deviation is free: from question 2's
functions, inline, through the other formula of the introduction.
"""

SOLUTIONS = {
    # Loops and numpy scalars: a sum of n_in equal terms, the average fan, np.float64 returns,
    # samplers that call question 2's functions, a network computed as (A^T W)^T with a
    # hand-written variance.
    "loops-and-numpy-scalars": {
        "q1": '''
def preactivation_variance(n_in, var_w, var_x):
    total = 0.0
    for _ in range(n_in):
        total += var_w * var_x
    return np.float64(total)
''',
        "q2": '''
def glorot_variance(n_in, n_out):
    if min(n_in, n_out) < 1:
        raise ValueError("fans must be at least 1")
    fan_avg = (n_in + n_out) / 2
    return np.float64(1.0 / fan_avg)


def glorot_uniform_limit(n_in, n_out):
    # Var U(-a, a) = a^2 / 3
    return np.sqrt(3.0 * glorot_variance(n_in, n_out))
''',
        "q3": '''
def glorot_uniform(n_in, n_out, rng):
    a = glorot_uniform_limit(n_in, n_out)
    return rng.uniform(-a, a, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(glorot_variance(n_in, n_out)), size=(n_in, n_out))
''',
        "q4": '''
def activation_variances(init, n_layers, width, X, rng):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError("X must be (n_in, m)")
    if n_layers < 1:
        raise ValueError("n_layers must be >= 1")
    A, out = X, []
    for layer in range(n_layers):
        W = init(A.shape[0], width, rng)
        A = np.tanh((A.T @ W).T)
        centred = A - A.mean()
        out.append(float((centred * centred).sum() / A.size))
    return out
''',
    },
    # The same mathematics written as a reader of the introduction might: the limit from
    # sqrt(6 / (n_in + n_out)) with math, keyword arguments, the std as the limit / sqrt(3),
    # the variances as Python floats from np.var of each layer.
    "inline-formulas": {
        "q1": '''
def preactivation_variance(n_in, var_w, var_x):
    return float(np.prod([n_in, var_w, var_x]))
''',
        "q2": '''
import math


def glorot_variance(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError(f"bad fans {n_in}, {n_out}")
    return 2 / (n_in + n_out)


def glorot_uniform_limit(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError(f"bad fans {n_in}, {n_out}")
    return math.sqrt(6 / (n_in + n_out))
''',
        "q3": '''
import math


def glorot_uniform(n_in, n_out, rng):
    if n_in < 1 or n_out < 1:
        raise ValueError("fans must be >= 1")
    limit = math.sqrt(6 / (n_in + n_out))
    return rng.uniform(low=-limit, high=limit, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    if n_in < 1 or n_out < 1:
        raise ValueError("fans must be >= 1")
    std = math.sqrt(6 / (n_in + n_out)) / math.sqrt(3)
    return rng.normal(loc=0.0, scale=std, size=(n_in, n_out))
''',
        "q4": '''
def activation_variances(init, n_layers, width, X, rng):
    if np.ndim(X) != 2 or n_layers < 1:
        raise ValueError("X must be 2-D and n_layers >= 1")
    variances = []
    A = np.array(X, dtype=float)
    n_in = A.shape[0]
    for layer in range(1, n_layers + 1):
        W = init(n_in if layer == 1 else width, width, rng)
        A = np.tanh(W.T.dot(A))
        variances.append(np.var(A).item())
    return variances
''',
    },
}

WITHOUT_VALIDATION = {
    "no-validation": {
        "q2": '''
def glorot_variance(n_in, n_out):
    return 2.0 / (n_in + n_out)


def glorot_uniform_limit(n_in, n_out):
    return float(np.sqrt(6.0 / (n_in + n_out)))
''',
        "q3": '''
def glorot_uniform(n_in, n_out, rng):
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))
''',
        "q4": '''
def activation_variances(init, n_layers, width, X, rng):
    A, out = np.asarray(X, dtype=float), []
    for _ in range(n_layers):
        A = np.tanh(init(A.shape[0], width, rng).T @ A)
        out.append(float(np.var(A)))
    return out
''',
    },
    # Without validation of its own: the samplers lean on question 2's functions (which
    # validate), so a fan below 1 still raises.
    "samplers-without-validation": {
        "q3": '''
def glorot_uniform(n_in, n_out, rng):
    a = glorot_uniform_limit(n_in, n_out)
    return rng.uniform(-a, a, (n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    return rng.normal(0, glorot_variance(n_in, n_out) ** 0.5, (n_in, n_out))
''',
    },
}

# The statistical judges of question 3 and the band judge recognize these mistakes in their
# own words too.
JUDGE_WORDS = {"uniform-not-centered": "looks like U(0, limit)",
               "uniform-transposed": "the matrix is transposed",
               "normal-variance-as-scale": "rng.normal's scale is the standard deviation",
               "normal-uses-uniform-limit": "the uniform's limit used as the standard",
               "activations-include-input": "the list starts with Var(X)",
               "activations-preactivation": "variances of the pre-activations"}
