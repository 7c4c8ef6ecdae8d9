"""Reference, mistakes and student files of the gan assignment.

The reference is checked against scipy (adaptive quadrature, scalar maximization, scipy's
Jensen-Shannon distance), closed-form facts (-2 log 2 at p_g = p_r, log 2 for disjoint
supports) and the identity V(D*, G) = -2 log 2 + 2 JSD.
"""
import math
from functools import partial

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.spatial.distance
import scipy.special

from assignment_consistency import (AssignmentFiles, ConsistencyTests, arrays_differ,
                                   assert_mistake_differs)

FILES = AssignmentFiles.load("gan")
ref, mistakes = FILES.reference, FILES.mistakes


class TestConsistency(ConsistencyTests):
    """The files agree with each other (shared tests, see assignment_consistency)."""

    files = FILES


# --- the reference is right -----------------------------------------------------------

LOG2 = math.log(2.0)
# Wide enough for the Gaussians below to hold all but ~1e-9 of their mass, narrow enough
# that D* never rounds to exactly 0 or 1 where both densities are positive (that happens
# where one density is below ~1e-16 times the other, and then log(1 - D*) = -inf).
XS = np.linspace(-6.0, 6.0, 6001)


def _normal(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def _uniform(x, low, high):
    return np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0)


def test_optimal_discriminator_maximizes_each_point():
    """D*(x) is the maximizer over y in (0, 1) of a log y + b log(1 - y) with a = p_r(x),
    b = p_g(x), found here by scipy's bounded scalar minimization."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.01, 3, 20), rng.uniform(0.01, 3, 20)
    d = ref.optimal_discriminator(a, b)
    for ai, bi, di in zip(a, b, d):
        res = scipy.optimize.minimize_scalar(lambda y: -(ai * np.log(y) + bi * np.log1p(-y)),
                                             bounds=(1e-9, 1 - 1e-9), method="bounded",
                                             options={"xatol": 1e-10})
        assert di == pytest.approx(res.x, abs=1e-7)


def test_optimal_discriminator_edge_values_without_warnings():
    """D* is 1 where only p_r > 0, 0 where only p_g > 0 and exactly 0.5 where both are 0,
    with no nan and no floating-point warning."""
    with np.errstate(all="raise"):
        d = ref.optimal_discriminator(np.array([2.0, 0.0, 0.0, 1.0]),
                                      np.array([0.0, 3.0, 0.0, 1.0]))
    assert d.tolist() == [1.0, 0.0, 0.5, 0.5]


@pytest.mark.parametrize("pr,pg", [(np.ones(3), np.ones(4)), (np.array([1.0, -0.1]), np.ones(2))])
def test_optimal_discriminator_rejects_bad_input(pr, pg):
    """Different shapes or a negative density raise ValueError."""
    with pytest.raises(ValueError, match="optimal_discriminator"):
        ref.optimal_discriminator(pr, pg)


def test_value_matches_adaptive_quadrature():
    """gan_value with a smooth D agrees with scipy.integrate.quad of
    p_r log D + p_g log(1 - D) (within 1e-7)."""
    def D(x):
        return 1 / (1 + np.exp(-(0.8 * x - 0.3)))

    def integrand(x):
        return _normal(x, 0, 1) * np.log(D(x)) + _normal(x, 1.5, 0.8) * np.log1p(-D(x))
    expected, _ = scipy.integrate.quad(integrand, -6, 6, epsabs=1e-12)
    got = ref.gan_value(D(XS), _normal(XS, 0, 1), _normal(XS, 1.5, 0.8), XS)
    assert isinstance(got, float) and got == pytest.approx(expected, abs=1e-7)


def test_value_equals_numpy_trapezoid():
    """On an uneven grid the integral is exactly the trapezoid rule (np.trapezoid)."""
    xs = np.sort(np.random.default_rng(1).uniform(-6, 6, 300))
    pr, pg = _normal(xs, 0, 1), _normal(xs, 1, 2)
    d = np.full_like(xs, 0.3)
    expected = np.trapezoid(pr * np.log(d) + pg * np.log(1 - d), xs)
    assert ref.gan_value(d, pr, pg, xs) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("pg_params", [(0.0, 1.0), (1.5, 0.8), (-1.0, 0.7)])
def test_value_at_optimum_is_minus_2log2_plus_2jsd(pg_params):
    """V(D*, G) = 2 JSD - log 2 * (mass of p_r + p_g on the grid), exactly on any grid;
    with densities of mass 1 that is -2 log 2 + 2 JSD, and exactly -2 log 2 when
    p_g = p_r, where D* = 1/2 everywhere."""
    pr, pg = _normal(XS, 0, 1), _normal(XS, *pg_params)
    d = ref.optimal_discriminator(pr, pg)
    value = ref.gan_value(d, pr, pg, XS)
    jsd = ref.jensen_shannon(pr, pg, XS)
    assert value == pytest.approx(2 * jsd - LOG2 * np.trapezoid(pr + pg, XS), abs=1e-12)
    assert value == pytest.approx(-2 * LOG2 + 2 * jsd, abs=1e-8)
    if pg_params == (0.0, 1.0):
        assert np.all(d == 0.5)
        assert value == pytest.approx(-2 * LOG2, abs=1e-8)


def test_optimal_discriminator_beats_perturbed_ones():
    """No perturbation of D* (clipped to (0, 1)) gives a larger value."""
    pr, pg = _normal(XS, 0, 1), _normal(XS, 1.5, 0.8)
    d_star = ref.optimal_discriminator(pr, pg)
    best = ref.gan_value(d_star, pr, pg, XS)
    rng = np.random.default_rng(2)
    for _ in range(20):
        d = np.clip(d_star + 0.05 * rng.normal(size=XS.size), 1e-6, 1 - 1e-6)
        assert ref.gan_value(d, pr, pg, XS) < best


def test_value_zero_log_zero_and_minus_infinity():
    """With disjoint supports and D*, every log term is 0 * log 0 or p * log 1, so V = 0
    (no nan); a D that is 0 where p_r > 0 gives -inf."""
    pr, pg = _uniform(XS, -4, -2), _uniform(XS, 1, 3)
    d = ref.optimal_discriminator(pr, pg)
    assert ref.gan_value(d, pr, pg, XS) == pytest.approx(0.0, abs=1e-12)
    assert ref.gan_value(np.zeros_like(XS), pr, pg, XS) == -math.inf


def test_log10_variant_only_rescales_the_value():
    """The seed's log10 value is the natural-log value divided by ln 10, so both have the
    same maximizer; the minimum over generators becomes -2 log10 2."""
    pr, pg = _normal(XS, 0, 1), _normal(XS, 1.5, 0.8)
    d = ref.optimal_discriminator(pr, pg)
    assert mistakes.gan_value__log10(d, pr, pg, XS) == pytest.approx(
        ref.gan_value(d, pr, pg, XS) / math.log(10), rel=1e-12)
    assert mistakes.gan_value__log10(np.full_like(XS, 0.5), pr, pr, XS) == pytest.approx(
        -2 * math.log10(2), abs=1e-8)


@pytest.mark.parametrize("args,match", [
    ((np.full(5, 0.5), np.ones(5), np.ones(5), np.arange(4.0)), "1-D arrays"),
    ((np.full(1, 0.5), np.ones(1), np.ones(1), np.zeros(1)), "1-D arrays"),
    ((np.full(3, 0.5), -np.ones(3), np.ones(3), np.arange(3.0)), ">= 0"),
    ((np.full(3, 1.5), np.ones(3), np.ones(3), np.arange(3.0)), r"\[0, 1\]"),
])
def test_value_rejects_bad_input(args, match):
    """Mismatched lengths, fewer than 2 points, negative densities or D outside [0, 1]
    raise ValueError."""
    with pytest.raises(ValueError, match=match):
        ref.gan_value(*args)


@pytest.mark.parametrize("q_params", [(0.5, 1.0), (1.5, 0.8), (4.0, 0.3)])
def test_jsd_matches_scipy_and_quadrature(q_params):
    """jensen_shannon equals the square of scipy's Jensen-Shannon distance (natural log)
    on the grid and scipy.integrate.quad of the definition, within 1e-7."""
    p, q = _normal(XS, 0, 1), _normal(XS, *q_params)
    got = ref.jensen_shannon(p, q, XS)
    assert got == pytest.approx(scipy.spatial.distance.jensenshannon(p, q) ** 2, abs=1e-7)

    def integrand(x):
        a, b = _normal(x, 0, 1), _normal(x, *q_params)
        m = (a + b) / 2
        return 0.5 * (scipy.special.xlogy(a, a / m) + scipy.special.xlogy(b, b / m)) if m else 0.0
    expected, _ = scipy.integrate.quad(integrand, -6, 6, epsabs=1e-12, limit=200)
    assert got == pytest.approx(expected, abs=1e-7)


def test_jsd_basic_properties():
    """JSD(p, p) = 0, JSD is symmetric and lies in (0, log 2) otherwise; for disjoint
    supports it is log 2 times the mean grid mass of the two densities (log 2 up to the
    trapezoid error at the jumps), with no nan from 0 * log 0."""
    p, q = _normal(XS, 0, 1), _normal(XS, 2, 0.5)
    assert ref.jensen_shannon(p, p, XS) == pytest.approx(0.0, abs=1e-12)
    assert ref.jensen_shannon(p, q, XS) == pytest.approx(ref.jensen_shannon(q, p, XS),
                                                         rel=1e-14)
    assert 0 < ref.jensen_shannon(p, q, XS) < LOG2
    u, v = _uniform(XS, -4, -2), _uniform(XS, 1, 3)
    disjoint = ref.jensen_shannon(u, v, XS)
    assert disjoint == pytest.approx(LOG2 * np.trapezoid(u + v, XS) / 2, rel=1e-12)
    assert disjoint == pytest.approx(LOG2, rel=1e-2)


@pytest.mark.parametrize("args,match", [
    ((np.ones(3), np.ones(4), np.arange(3.0)), "1-D arrays"),
    ((np.ones(3), -np.ones(3), np.arange(3.0)), ">= 0"),
])
def test_jsd_rejects_bad_input(args, match):
    """Mismatched shapes or negative densities raise ValueError."""
    with pytest.raises(ValueError, match=match):
        ref.jensen_shannon(*args)


# --- every mistake is detectable ------------------------------------------------------

def _typical_args(function):
    # Overlapping uniforms on a wider grid: regions where only p_r, only p_g or neither
    # has mass, which is where the 0 * log 0 and 0 / 0 mistakes show.
    pr, pg = _uniform(XS, -3, 1), _uniform(XS, -1, 2)
    if function == "optimal_discriminator":
        return (pr, pg)
    if function == "gan_value":
        return (ref.optimal_discriminator(pr, pg), pr, pg, XS)
    if function == "jensen_shannon":
        return (_normal(XS, 0, 1), _normal(XS, 1.5, 0.8), XS)
    raise AssertionError(f"no typical input for {function}")


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference(mistake):
    """On typical inputs the wrong variant's output differs from the reference's beyond
    rtol 1e-6 (nan and inf count as different), so the judge can tell them apart."""
    assert_mistake_differs(ref, mistake, _typical_args, partial(arrays_differ, atol=1e-9))
