"""GAN checks: inputs and tolerances (trusted side). Points add up per question.

Densities are sampled here and passed as arrays: Gaussians and Gaussian mixtures on grids
inside [-6, 6] (far in the tails D* would round to exactly 0 or 1 and log(1 - D*) to -inf,
see the notebook), and uniforms on a wider grid where the 0 * log 0 and 0 / 0 cases live.
Values are compared with the reference to rtol 1e-9 (same trapezoid rule, different
summation order); D*-maximizes and V(D*) = -2 log 2 + 2 JSD are judges (judges.py) that
compare the student's values with the course's. Each question is graded on its own function
only: D*-maximizes (q2) evaluates the student's gan_value at the grader's D* and the identity
(q3) checks the student's JSD against the course's V(D*), so a wrong optimal_discriminator or
gan_value costs points in its own question only.

Input validation (Check(validation=True): the ValueError checks) carries 0.75 of the 10
points; the rest is for the mathematics.
"""

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

VALUES = Tol(atol=1e-12, rtol=1e-9)

XS = np.linspace(-6.0, 6.0, 601)


def _normal(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


def _uniform(x, low, high):
    return np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0)


def _mixture(rng, xs):
    k = int(rng.integers(1, 4))
    weights = rng.dirichlet(np.ones(k))
    means, stds = rng.uniform(-1.5, 1.5, k), rng.uniform(0.6, 1.0, k)
    return sum(w * _normal(xs, m, s) for w, m, s in zip(weights, means, stds))


def _uneven_grid(rng, n):
    inner = np.sort(rng.uniform(-6.0, 6.0, n - 2))
    return np.concatenate([[-6.0], inner, [6.0]])


def _mixture_pair(rng, xs):
    """Two different mixtures whose D* stays strictly inside (0, 1) on the grid."""
    while True:
        pr, pg = _mixture(rng, xs), _mixture(rng, xs)
        d = pr / (pr + pg)
        if np.all((d > 1e-12) & (d < 1 - 1e-12)) and np.max(np.abs(pr - pg)) > 0.05:
            return pr, pg


def _mixtures_on_grid(rng, n=1001, uneven=True):
    xs = _uneven_grid(rng, n) if uneven else np.linspace(-6.0, 6.0, n)
    pr, pg = _mixture_pair(rng, xs)
    return xs, pr, pg


def _overlapping_uniforms(rng, xs):
    """p_r on [a, b], p_g on [c, e] overlapping on part of it, both 0 at the grid's ends."""
    a = float(rng.uniform(-5.0, -2.0))
    b = float(rng.uniform(-1.0, 1.5))
    c = float(rng.uniform(a + 0.5, b - 0.2))
    e = float(rng.uniform(2.0, 5.0))
    return _uniform(xs, a, b), _uniform(xs, c, e)


# ---------------------------------------------------------------------------- variants

SETUP_XS = np.linspace(-6.0, 6.0, 3001)     # the setup cell's grid


def _density(xs, components):
    """A mixture given as [[weight, mean, std], ...] (one component: a Gaussian)."""
    return sum(w * _normal(xs, m, s) for w, m, s in components)


def _names(components):
    """The density as text ("N(1.5, 0.8^2)", "0.6 N(-1, 0.7^2) + 0.4 N(1.2, 0.6^2)") and
    as LaTeX."""
    text, tex = [], []
    for w, m, s in components:
        var = "1" if s == 1 else f"{s:g}^2"
        weight = f"{w:g} " if len(components) > 1 else ""
        text.append(f"{weight}N({m:g}, {var})")
        tex.append(f"{weight.strip()}\\,\\mathcal{{N}}({m:g}, {var})" if weight
                   else f"\\mathcal{{N}}({m:g}, {var})")
    return " + ".join(text), " + ".join(tex)


def _with_names(v):
    for key in ("real", "gen", "other"):
        v[f"{key}_name"], v[f"{key}_tex"] = _names(v[key])
    return v


# The course's exercise is the canonical variant; per-student variants redraw the two densities of
# the setup cell and the public checks (p_real a Gaussian, p_gen a Gaussian or a mixture of
# two), the second Gaussian of the public JSD check and the public logistic discriminator (see
# variant()); the notebook text and setup cell print them.
CANONICAL = _with_names({"real": [[1.0, 0.0, 1.0]], "gen": [[1.0, 1.5, 0.8]],
                         "other": [[1.0, 2.0, 0.5]], "logistic": [0.8, -0.3], "seed": True})


def _far_from_the_edges(components):
    # Like the exercise's N(1.5, 0.8^2): all but ~1e-8 of the mass inside [-6, 6].
    return all((6.0 - abs(m)) / s >= 5.6 for _, m, s in components)


def variant(rng):
    """p_real = N(m, s^2), p_gen a Gaussian or a two-component mixture, one-decimal parameters
    whose mass lies inside [-6, 6]; on the setup grid and on the checks' grid D* stays within
    1e-10 of neither 0 nor 1 and the densities differ visibly."""
    def gaussian(mean_range, std_range):
        return [1.0, round(float(rng.uniform(*mean_range)), 1) + 0.0,   # + 0.0: never -0.0
                round(float(rng.uniform(*std_range)), 1)]
    while True:
        real = [gaussian((-1.0, 1.0), (0.6, 1.0))]
        if rng.random() < 0.5:
            gen = [gaussian((-1.5, 1.5), (0.5, 1.0))]
        else:
            w = round(float(rng.choice([0.3, 0.4, 0.5, 0.6, 0.7])), 1)
            gen = [gaussian((-1.5, 1.5), (0.5, 0.9)), gaussian((-1.5, 1.5), (0.5, 0.9))]
            gen[0][0], gen[1][0] = w, round(1.0 - w, 1)
            if abs(gen[0][1] - gen[1][1]) < 1.0:
                continue
        sign = 1.0 if rng.random() < 0.5 else -1.0
        other = [[1.0, round(sign * float(rng.uniform(1.0, 2.5)), 1),
                  round(float(rng.uniform(0.4, 0.8)), 1)]]
        if not all(_far_from_the_edges(c) for c in (real, gen, other)):
            continue
        ok = True
        for xs in (SETUP_XS, XS):
            pr, pg = _density(xs, real), _density(xs, gen)
            d = pr / (pr + pg)
            ok &= bool(np.all((d > 1e-10) & (d < 1 - 1e-10)) and np.max(np.abs(pr - pg)) > 0.05)
        if ok:
            slope = round(float(rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.2)), 1)
            return _with_names({"real": real, "gen": gen, "other": other,
                                "logistic": [slope, round(float(rng.uniform(-0.8, 0.8)), 1) + 0.0],
                                "seed": False})


def _d_star(pr, pg):
    total = pr + pg
    return np.where(total > 0, pr / np.where(total > 0, total, 1.0), 0.5)


# ---------------------------------------------------------------------------- q1

SMALL_PR = np.array([0.5, 0.0, 0.0, 1.0, 2.0, 0.3])
SMALL_PG = np.array([0.5, 1.0, 0.0, 0.0, 1.0, 0.1])


def _dstar_mixtures(rng):
    pr, pg = _mixture_pair(rng, XS)
    return dict(pr_x=pr, pg_x=pg)


def _dstar_uniforms(rng):
    pr, pg = _overlapping_uniforms(rng, np.linspace(-6.0, 6.0, 481))
    return dict(pr_x=pr, pg_x=pg)


def _dstar_equal(rng):
    """p_g = p_r on a random window of the grid (D* = 1/2 there) and another mixture
    elsewhere: the answer depends on the densities, not only on the theorem."""
    p, q = _mixture(rng, XS), _mixture(rng, XS)
    start = int(rng.integers(0, len(XS) // 2))
    window = (np.arange(len(XS)) >= start) & (np.arange(len(XS)) < start + len(XS) // 2)
    return dict(pr_x=p, pg_x=np.where(window, p, q))


# ---------------------------------------------------------------------------- q2

def _logistic(xs, slope, shift):
    return 1.0 / (1.0 + np.exp(-(slope * xs + shift)))


def _value_random(rng):
    xs, pr, pg = _mixtures_on_grid(rng)
    d = _logistic(xs, float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-1.0, 1.0)))
    return dict(d_x=d, pr_x=pr, pg_x=pg, xs=xs)


def _value_vanishing(rng):
    xs = np.linspace(-6.0, 6.0, 481)
    pr, pg = _overlapping_uniforms(rng, xs)
    return dict(d_x=_d_star(pr, pg), pr_x=pr, pg_x=pg, xs=xs)


def _value_equal(rng):
    """p_g = p_r on an even grid that cuts off a random part of the mass M, with D = 1/2
    except on a random window where D is a logistic curve: V = -2 log 2 M where D = 1/2, less
    elsewhere. The answer depends on the densities and on D, so neither the theorem alone
    (-2 log 2) nor a value that ignores D gets it."""
    half = float(rng.uniform(1.5, 3.0))
    xs = np.linspace(-half, half, 1201)
    p = _mixture(rng, xs)
    start = int(rng.integers(0, len(xs) // 2))
    window = (np.arange(len(xs)) >= start) & (np.arange(len(xs)) < start + len(xs) // 3)
    d = np.where(window, _logistic(xs, float(rng.uniform(0.5, 1.5)), 0.0), 0.5)
    return dict(d_x=d, pr_x=p, pg_x=p.copy(), xs=xs)


# Discriminators are kept inside [LOW, 1 - LOW] when perturbed, so log D stays finite.
LOW = 1e-9


def _perturbations(d, rng):
    """Discriminators near d: shifts, pulls toward and away from 1/2, powers, noise."""
    out = [d + s for s in (-0.1, -0.02, 0.02, 0.1)]
    out += [(1 - a) * d + a * 0.5 for a in (0.1, 0.5, 1.0)]
    out += [0.5 + 1.2 * (d - 0.5), d ** 0.9, d ** 1.1]
    out += [d + 0.05 * rng.normal(size=d.shape) for _ in range(5)]
    return [np.clip(c, LOW, 1 - LOW) for c in out]


def _maximizes(rng):
    xs, pr, pg = _mixtures_on_grid(rng)
    d_star = _d_star(pr, pg)
    return dict(pr_x=pr, pg_x=pg, xs=xs, d_star=d_star, others=_perturbations(d_star, rng))


def _value_at_optimum(rng):
    xs, pr, pg = _mixtures_on_grid(rng)
    return dict(d_x=_d_star(pr, pg), pr_x=pr, pg_x=pg, xs=xs)


def _value_invalid(rng):
    xs = np.linspace(-3.0, 3.0, int(rng.integers(5, 12)))
    return dict(d_x=np.full(xs.shape, 0.4), pr_x=_normal(xs, 0, 1), pg_x=_normal(xs, 1, 1),
                xs=xs)


# ---------------------------------------------------------------------------- q3

def _jsd_random(rng):
    xs, pr, pg = _mixtures_on_grid(rng)
    return dict(pr_x=pr, pg_x=pg, xs=xs)


def _jsd_disjoint(rng):
    xs = np.linspace(-6.0, 6.0, 1201)
    a = float(rng.uniform(-5.5, -3.0))
    b = float(rng.uniform(a + 0.5, -0.5))
    c = float(rng.uniform(0.5, 3.0))
    e = float(rng.uniform(c + 0.5, 5.5))
    return dict(pr_x=_uniform(xs, a, b), pg_x=_uniform(xs, c, e), xs=xs)


def _jsd_invalid(rng):
    """Lengths that differ and a negative density, next to a valid call, in a random order:
    which calls raise must come from the inputs, not from a fixed answer a forged report
    could give."""
    xs = np.linspace(-3.0, 3.0, int(rng.integers(5, 12)))
    pr, pg = _normal(xs, 0, 1), _normal(xs, 0.5, 1.5)
    negative = pr.copy()
    negative[int(rng.integers(len(xs)))] = -float(rng.uniform(0.1, 1.0))
    cases = [[pr, pg[:-1], xs], [negative, pg, xs], [pr, pg, xs]]
    return dict(cases=[cases[k] for k in rng.permutation(len(cases))])


def _two_points(rng):
    """The smallest grid, n = 2 (one trapezoid), with positive densities and D in (0, 1)."""
    xs = np.array([-1.0, 1.0]) * rng.uniform(0.5, 2.0) + rng.uniform(-1.0, 1.0)
    return dict(d_x=rng.uniform(0.1, 0.9, 2), pr_x=rng.uniform(0.1, 1.0, 2),
                pg_x=rng.uniform(0.1, 1.0, 2), xs=xs)


def _jsd_two_points(rng):
    inputs = _two_points(rng)
    del inputs["d_x"]
    return inputs


def _identity(rng):
    xs, pr, pg = _mixtures_on_grid(rng, uneven=False)
    return dict(pr_x=pr, pg_x=pg, xs=xs)


def checks(v):
    pr, pg, other = (_density(XS, v[key]) for key in ("real", "gen", "other"))
    setup_pr, setup_pg = _density(SETUP_XS, v["real"]), _density(SETUP_XS, v["gen"])
    slope, shift = v["logistic"]
    return [
        # q1: the optimal discriminator
        Check("q1", "small arrays, including points where both densities vanish",
              "optimal_discriminator", lambda rng: dict(pr_x=SMALL_PR, pg_x=SMALL_PG),
              points=1.0, tol={"d": VALUES}),
        Check("q1", "different shapes and a negative density raise ValueError",
              "optimal_discriminator_invalid", lambda rng: dict(pr_x=SMALL_PR, pg_x=SMALL_PG),
              points=0.25, tol=EXACT, validation=True),
        Check("q1", "Gaussian mixtures on a grid", "optimal_discriminator", _dstar_mixtures,
              points=0.75, hidden=True, tol={"d": VALUES}),
        Check("q1", "overlapping uniforms: D* is 1, 0 or 1/2 off the overlap",
              "optimal_discriminator", _dstar_uniforms, points=0.75, hidden=True,
              tol={"d": VALUES}),
        Check("q1", "p_g = p_r on part of the grid gives D* = 1/2 there", "optimal_discriminator",
              _dstar_equal, points=0.25, hidden=True, tol={"d": VALUES}),
        # q2: the value function
        Check("q2", f"logistic discriminator, {v['real_name']} against {v['gen_name']}",
              "gan_value",
              lambda rng: dict(d_x=_logistic(XS, slope, shift), pr_x=pr, pg_x=pg, xs=XS),
              points=0.5, tol={"value": VALUES}),
        Check("q2", "0 * log 0 counts as 0: disjoint uniforms with D*", "gan_value",
              lambda rng: dict(d_x=_d_star(_uniform(XS, -4, -2), _uniform(XS, 1, 3)),
                               pr_x=_uniform(XS, -4, -2), pg_x=_uniform(XS, 1, 3), xs=XS),
              points=0.5, tol={"value": VALUES}),
        Check("q2", "D = 0 where p_r > 0 gives -inf", "gan_value",
              lambda rng: dict(d_x=np.zeros(XS.shape), pr_x=_uniform(XS, -4, -2),
                               pg_x=_uniform(XS, 1, 3), xs=XS),
              points=0.25, tol={"value": VALUES}),
        Check("q2", "ValueError for lengths, one point, negative density, D outside [0, 1]",
              "gan_value_invalid",
              lambda rng: dict(d_x=np.full(5, 0.4), pr_x=np.array([0.0, 0.1, 0.4, 0.1, 0.0]),
                               pg_x=np.array([0.1, 0.3, 0.2, 0.0, 0.0]),
                               xs=np.array([-2.0, -1.0, 0.0, 1.0, 2.0])),
              points=0.25, tol=EXACT, validation=True),
        Check("q2", "logistic discriminator, random mixtures on an uneven grid", "gan_value",
              _value_random, points=0.5, hidden=True, tol={"value": VALUES}),
        Check("q2", "densities that vanish on part of the grid, D* there", "gan_value",
              _value_vanishing, points=0.5, hidden=True, tol={"value": VALUES}),
        Check("q2", "p_g = p_r: V = -2 log 2 times the mass where D = 1/2, less elsewhere",
              "gan_value", _value_equal,
              points=0.25, hidden=True, tol={"value": VALUES}),
        Check("q2", "value at D* of random mixtures", "gan_value", _value_at_optimum,
              points=0.25, hidden=True, tol={"value": VALUES}),
        # D* is the grader's (given), so q2 does not depend on the student's q1.
        Check("q2", "no perturbation of D* gets a higher value", "d_star_maximizes",
              _maximizes, points=0.75, hidden=True, judge="d_star_maximizes"),
        Check("q2", "a grid of two points (n = 2 is valid)", "gan_value", _two_points,
              points=0.25, hidden=True, tol={"value": VALUES}),
        # q3: Jensen-Shannon divergence
        Check("q3", "JSD(p, p) = 0", "jensen_shannon",
              lambda rng: dict(pr_x=pr, pg_x=pr.copy(), xs=XS),
              points=0.25, tol={"jsd": VALUES}),
        Check("q3", f"{v['real_name']} and {v['other_name']} in both orders",
              "jensen_shannon_both_orders",
              lambda rng: dict(pr_x=pr, pg_x=other, xs=XS),
              points=0.25, tol={"jsd_rg": VALUES, "jsd_gr": VALUES}),
        Check("q3", "JSD of your notebook's own p_real and p_gen on its grid xs",
              "jensen_shannon_on_notebook_data",
              lambda rng: dict(pr_x=setup_pr, pg_x=setup_pg, xs=SETUP_XS),
              points=0.25, tol={"jsd": VALUES}),
        Check("q3", "random Gaussian mixtures on an uneven grid", "jensen_shannon",
              _jsd_random, points=0.5, hidden=True, tol={"jsd": VALUES}),
        Check("q3", "uniforms with disjoint supports give log 2", "jensen_shannon",
              _jsd_disjoint, points=0.5, hidden=True, tol={"jsd": VALUES}),
        Check("q3", "lengths that differ and a negative density raise ValueError",
              "jensen_shannon_cases", _jsd_invalid, points=0.25, hidden=True, tol=EXACT,
              validation=True),
        # The course's V(D*), not the student's q1 and q2: q3 is graded on its own function.
        Check("q3", "V(D*) = -2 log 2 + 2 JSD with your jensen_shannon", "jensen_shannon",
              _identity, points=0.75, hidden=True, judge="optimum_identity"),
        Check("q3", "a grid of two points (n = 2 is valid)", "jensen_shannon", _jsd_two_points,
              points=0.25, hidden=True, tol={"jsd": VALUES}),
    ]
