"""Glorot probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs and returns raw outputs; it holds
no expected value. The same probe applied to the reference gives the expected outputs.

Random functions get a numpy Generator built here from a seed input, so both sides draw from
the same stream. The target distribution of a sample check (`_limit`, `_variance`, `_std`) is
a judge-only input: it never reaches the sandbox, so the probes take it as optional. Weight
initializers for activation_variances are built here from a kind and a scale given in the
inputs, so question 4 never depends on the student's own samplers of question 3.

Question 3 is graded on its own too: a sampler may call glorot_variance or
glorot_uniform_limit (question 2), so during a question 3 probe those names stand in
(Names.standing_in) for functions that return the results given in the inputs (`given`,
computed on the trusted side) for the check's layer sizes and fall back on the student's own
function for any other call. A mistake in question 2 then costs question 2's points only.
"""

import numpy as np

from checklib import raised


def _init(kind, scale):
    """An init(n_in, n_out, rng) making exactly one draw call, as the API prescribes."""
    if kind == "normal":
        return lambda n_in, n_out, rng: rng.normal(0.0, scale, size=(n_in, n_out))
    if kind == "uniform":
        return lambda n_in, n_out, rng: rng.uniform(-scale, scale, size=(n_in, n_out))
    raise ValueError(f"unknown init kind {kind!r}")


# --- q1, q2: formulas ------------------------------------------------------------------

def preactivation_variance(ns, cases):
    return {"var": [ns["preactivation_variance"](n_in, var_w, var_x)
                    for n_in, var_w, var_x in cases]}


def glorot_formulas(ns, function, fans):
    fn = ns[function]
    return {function: [fn(n_in, n_out) for n_in, n_out in fans]}


def glorot_formulas_reject(ns, fans):
    return {name: [raised(ns[name], n_in, n_out) for n_in, n_out in fans]
            for name in ("glorot_variance", "glorot_uniform_limit")}


# --- q3: samplers ----------------------------------------------------------------------

def _given(name, table, own):
    """A stand-in for question 2's function `name`: for the layer sizes of a row [n_in, n_out,
    result] of table (in either order: the Glorot formulas are symmetric) it returns that
    result, or raises ValueError where the result is None (sizes below 1); any other call goes
    to the student's own function."""
    def stand_in(n_in, n_out):
        for a, b, result in table:
            if (n_in, n_out) in ((a, b), (b, a)):
                if result is None:
                    raise ValueError(f"{name}: n_in and n_out must be >= 1")
                return result
        return own(n_in, n_out)
    return stand_in


def _standing_in(ns, given):
    """ns with question 2's functions standing in as given (see the module docstring)."""
    return ns.standing_in(**{name: _given(name, table, ns.own(name))
                             for name, table in (given or {}).items()})


def glorot_uniform(ns, n_in, n_out, seed, given=None, **target):
    with _standing_in(ns, given):
        return {"W": ns["glorot_uniform"](n_in, n_out, np.random.default_rng(seed))}


def glorot_normal(ns, n_in, n_out, seed, given=None, **target):
    with _standing_in(ns, given):
        return {"W": ns["glorot_normal"](n_in, n_out, np.random.default_rng(seed))}


def samplers_reject(ns, fans, seed, given=None):
    with _standing_in(ns, given):
        return {name: [raised(ns[name], n_in, n_out, np.random.default_rng(seed))
                       for n_in, n_out in fans]
                for name in ("glorot_uniform", "glorot_normal")}


# --- q4: variance through a deep tanh network ------------------------------------------

def activation_variances(ns, init, scale, n_layers, width, seed, X=None, n_in=None, m=None):
    """X is given (small public case) or drawn here from the seed with shape (n_in, m)."""
    if X is None:
        X = np.random.default_rng([seed, 0]).normal(size=(n_in, m))
    rng = np.random.default_rng([seed, 1])
    return {"variances": ns["activation_variances"](_init(init, scale), n_layers, width, X,
                                                    rng)}


def activation_variances_on_notebook_data(ns, init, scale, n_layers, width, seed, data_seed,
                                          n_in, m):
    """activation_variances on the notebook's own X_demo (the student's variant). The inputs
    rebuild that variant's X_demo from its seed and shape where the notebook does not define
    it (as in the reference); a notebook carrying another student's X_demo answers for that."""
    X = ns.get("X_demo")
    if X is None:
        X = np.random.default_rng(data_seed).normal(size=(n_in, m))
    rng = np.random.default_rng([seed, 1])
    return {"variances": ns["activation_variances"](_init(init, scale), n_layers, width, X,
                                                    rng)}


def activation_band(ns, n_layers, width, m, seed, stds):
    """The same square network (n_in = width) with each of the normal inits in stds."""
    X = np.random.default_rng([seed, 0]).normal(size=(width, m))
    fn = ns["activation_variances"]
    return {name: fn(_init("normal", std), n_layers, width, X, np.random.default_rng([seed, 1]))
            for name, std in stds.items()}


def activation_variances_reject(ns, X_1d, X_2d, width, seed):
    """Two invalid calls and a valid one (a single layer, which must not raise)."""
    fn = ns["activation_variances"]
    init = _init("normal", 0.1)
    return {"X not 2-D": raised(fn, init, 2, width, X_1d, np.random.default_rng(seed)),
            "n_layers = 0": raised(fn, init, 0, width, X_2d, np.random.default_rng(seed)),
            "n_layers = 1": raised(fn, init, 1, width, X_2d, np.random.default_rng(seed))}


def activation_variances_cases(ns, cases, width, seed):
    """activation_variances on each [X, n_layers] of cases: what each call raised, if anything."""
    fn = ns["activation_variances"]
    init = _init("normal", 0.1)
    return {"raises": [raised(fn, init, int(n_layers), width, np.asarray(X),
                              np.random.default_rng(seed)) for X, n_layers in cases]}
