"""Reference, mistakes and student files of the glorot assignment.

Sampling functions are checked against numpy's own draws with the same seed (bit for bit),
sample statistics, Kolmogorov-Smirnov tests and torch.nn.init's Xavier bounds.
"""
from functools import partial

import numpy as np
import pytest
import scipy.stats
import torch

from assignment_consistency import (AssignmentFiles, ConsistencyTests, arrays_differ,
                                   assert_mistake_differs)

FILES = AssignmentFiles.load("glorot")
ref, mistakes = FILES.reference, FILES.mistakes


class TestConsistency(ConsistencyTests):
    """The files agree with each other (shared tests, see assignment_consistency)."""

    files = FILES


# --- the reference is right -----------------------------------------------------------

def test_preactivation_variance_matches_simulation():
    """n_in Var(w) Var(x) matches the sample variance of simulated sums of products of
    independent zero-mean w (normal) and x (uniform), within 2 %."""
    rng = np.random.default_rng(0)
    n_in, var_w, var_x = 12, 0.3, 2.5
    w = rng.normal(0.0, np.sqrt(var_w), size=(200_000, n_in))
    half = np.sqrt(3 * var_x)
    x = rng.uniform(-half, half, size=(200_000, n_in))
    expected = ref.preactivation_variance(n_in, var_w, var_x)
    assert expected == pytest.approx(n_in * var_w * var_x)
    assert np.var(np.sum(w * x, axis=1)) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("n_in,n_out", [(1, 1), (784, 100), (100, 10), (3, 500)])
def test_variance_and_limit_agree_with_torch_xavier(n_in, n_out):
    """glorot_variance is 2/(n_in + n_out); the uniform limit a has a^2/3 equal to it and
    is the bound torch.nn.init.xavier_uniform_ samples within (gain 1)."""
    var = ref.glorot_variance(n_in, n_out)
    a = ref.glorot_uniform_limit(n_in, n_out)
    assert isinstance(var, float) and isinstance(a, float)
    assert var == pytest.approx(2.0 / (n_in + n_out), rel=1e-15)
    assert a * a / 3 == pytest.approx(var, rel=1e-14)
    torch.manual_seed(0)
    w = torch.nn.init.xavier_uniform_(torch.empty(n_out, n_in))   # torch stores (out, in)
    assert w.abs().max().item() <= a * (1 + 1e-6)
    if n_in * n_out >= 1000:
        assert w.abs().max().item() > 0.99 * a


@pytest.mark.parametrize("fn", ["glorot_variance", "glorot_uniform_limit"])
@pytest.mark.parametrize("n_in,n_out", [(0, 5), (5, 0), (-1, 3)])
def test_fans_below_one_are_rejected(fn, n_in, n_out):
    """glorot_variance and glorot_uniform_limit raise ValueError for n_in or n_out < 1."""
    with pytest.raises(ValueError, match=">= 1"):
        getattr(ref, fn)(n_in, n_out)


def test_samplers_reject_fans_below_one():
    """glorot_uniform and glorot_normal raise ValueError (not an empty array) for n_in = 0."""
    for fn in (ref.glorot_uniform, ref.glorot_normal):
        with pytest.raises(ValueError, match=">= 1"):
            fn(0, 4, np.random.default_rng(0))


def test_samplers_make_exactly_the_specified_draw():
    """With the same seed, glorot_uniform equals rng.uniform(-a, a, size=(n_in, n_out)) and
    glorot_normal equals rng.normal(0, sqrt(var), size=...) bit for bit, and each leaves
    the generator in the same state (exactly one draw call)."""
    n_in, n_out = 7, 3
    a, std = np.sqrt(6 / 10), np.sqrt(2 / 10)
    for fn, draw in ((ref.glorot_uniform, lambda r: r.uniform(-a, a, size=(n_in, n_out))),
                     (ref.glorot_normal, lambda r: r.normal(0.0, std, size=(n_in, n_out)))):
        mine, theirs = np.random.default_rng(42), np.random.default_rng(42)
        W = fn(n_in, n_out, mine)
        assert W.shape == (n_in, n_out)
        np.testing.assert_array_equal(W, draw(theirs))
        assert mine.bit_generator.state == theirs.bit_generator.state


@pytest.mark.parametrize("fn,cdf", [("glorot_uniform", "uniform"), ("glorot_normal", "norm")])
def test_sampler_distribution(fn, cdf):
    """Entries have mean 0 and the Glorot variance, and pass a Kolmogorov-Smirnov test
    against U(-a, a) or N(0, 2/(n_in + n_out)) at level 1e-3."""
    n_in, n_out = 300, 500
    W = getattr(ref, fn)(n_in, n_out, np.random.default_rng(1))
    var = 2.0 / (n_in + n_out)
    assert abs(W.mean()) < 4 * np.sqrt(var / W.size)
    assert W.var() == pytest.approx(var, rel=0.01)
    a = np.sqrt(6.0 / (n_in + n_out))
    args = (-a, 2 * a) if cdf == "uniform" else (0.0, np.sqrt(var))
    assert scipy.stats.kstest(W.ravel(), cdf, args=args).pvalue > 1e-3


def test_activation_variances_follows_the_stated_recursion():
    """activation_variances calls init(n_in, width), then init(width, width) per layer in
    order, applies tanh(W^T A) without bias and returns n_layers Python floats equal to
    np.var of each A_l (recomputed here by hand)."""
    X = np.random.default_rng(2).normal(size=(6, 40))
    calls = []

    def init(n_in, n_out, rng):
        calls.append((n_in, n_out))
        return rng.normal(0.0, 0.5, size=(n_in, n_out))
    got = ref.activation_variances(init, 3, 5, X, np.random.default_rng(3))
    assert calls == [(6, 5), (5, 5), (5, 5)]
    assert len(got) == 3 and all(type(v) is float for v in got)
    rng, A, expected = np.random.default_rng(3), X, []
    for n_in in (6, 5, 5):
        A = np.tanh(rng.normal(0.0, 0.5, size=(n_in, 5)).T @ A)
        expected.append(np.var(A))
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_glorot_keeps_the_signal_where_naive_inits_fail():
    """Over 10 tanh layers of width 100, Glorot-normal keeps Var(A_l) between 0.05 and 0.9,
    N(0, 1) weights saturate (Var near 1) and N(0, 0.01^2) weights make it vanish."""
    X = np.random.default_rng(0).normal(size=(100, 1000))

    def run(init):
        return ref.activation_variances(init, 10, 100, X, np.random.default_rng(1))
    glorot = run(ref.glorot_normal)
    big = run(lambda n_in, n_out, rng: rng.normal(0.0, 1.0, size=(n_in, n_out)))
    small = run(lambda n_in, n_out, rng: rng.normal(0.0, 0.01, size=(n_in, n_out)))
    assert all(0.05 < v < 0.9 for v in glorot)
    assert big[-1] > 0.9
    assert small[-1] < 1e-10


@pytest.mark.parametrize("X,n_layers", [(np.ones(5), 2), (np.ones((5, 3)), 0)])
def test_activation_variances_rejects_bad_input(X, n_layers):
    """A 1-D X or n_layers < 1 raises ValueError."""
    with pytest.raises(ValueError, match="activation_variances"):
        ref.activation_variances(ref.glorot_normal, n_layers, 4, X, np.random.default_rng(0))


# --- every mistake is detectable ------------------------------------------------------

def _typical_args(function):
    rng = np.random.default_rng(7)
    if function == "preactivation_variance":
        return (64, 0.02, 1.5)
    if function in ("glorot_variance", "glorot_uniform_limit"):
        return (30, 50)
    if function in ("glorot_uniform", "glorot_normal"):
        return (30, 50, rng)
    if function == "activation_variances":
        return (ref.glorot_normal, 4, 20, rng.normal(size=(10, 50)), rng)
    raise AssertionError(f"no typical input for {function}")


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference(mistake):
    """With the same sizes and seed, the wrong variant's output differs from the
    reference's beyond rtol 1e-6 (or in shape), so the judge can tell them apart."""
    assert_mistake_differs(ref, mistake, _typical_args, partial(arrays_differ, atol=1e-12))
