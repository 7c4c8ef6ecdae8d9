"""Correct gan solutions written unlike the reference (tests/test_diagnoses.py grades them).

SOLUTIONS: each gets full marks and names no mistake. WITHOUT_VALIDATION: the mathematics
right and no input validation (the issue's report: it was told "D* is inverted", "uses log10",
"The JSD is in bits"); it loses at most the validation points and names no mistake.
"""

SOLUTIONS = {
    # np.divide with where=, masked logarithms, np.trapezoid: gan_value and jensen_shannon
    # return numpy scalars (np.float64, -inf included), which the docstring allows (a float)
    "numpy-scalars": {
        "q1": '''
def optimal_discriminator(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape or (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0 and of one shape")
    return np.divide(pr, pr + pg, out=np.full(pr.shape, 0.5), where=(pr + pg) > 0)
''',
        "q2": '''
def _xlog(a, b):
    out = np.zeros_like(a)
    mask = a > 0
    with np.errstate(divide="ignore"):
        out[mask] = a[mask] * np.log(b[mask])
    return out


def gan_value(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(v, dtype=float) for v in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (d.shape == pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any() or (d < 0).any() or (d > 1).any():
        raise ValueError("densities must be >= 0 and d in [0, 1]")
    return np.trapezoid(_xlog(pr, d) + _xlog(pg, 1 - d), xs)
''',
        "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0")
    m = 0.5 * (pr + pg)

    def kl_to_m(p):
        terms = np.zeros_like(p)
        terms[p > 0] = p[p > 0] * (np.log(p[p > 0]) - np.log(m[p > 0]))
        return np.trapezoid(terms, xs)
    return 0.5 * kl_to_m(pr) + 0.5 * kl_to_m(pg)
''',
    },
    # plain Python loops over the grid, math.log, sums of trapezoids
    "loops": {
        "q1": '''
import math


def optimal_discriminator(pr_x, pg_x):
    if len(pr_x) != len(pg_x) or np.shape(pr_x) != np.shape(pg_x):
        raise ValueError("pr_x and pg_x must have the same shape")
    out = []
    for a, b in zip(pr_x, pg_x):
        if a < 0 or b < 0:
            raise ValueError("densities must be >= 0")
        out.append(0.5 if a + b == 0 else a / (a + b))
    return np.array(out)
''',
        "q2": '''
def gan_value(d_x, pr_x, pg_x, xs):
    if np.ndim(xs) != 1 or len(xs) < 2 or not (
            np.shape(d_x) == np.shape(pr_x) == np.shape(pg_x) == np.shape(xs)):
        raise ValueError("need 1-D arrays of one length >= 2")
    f = []
    for d, a, b in zip(d_x, pr_x, pg_x):
        if a < 0 or b < 0 or d < 0 or d > 1:
            raise ValueError("densities must be >= 0 and d in [0, 1]")
        term = 0.0
        if a > 0:
            term += a * (math.log(d) if d > 0 else -math.inf)
        if b > 0:
            term += b * (math.log(1 - d) if d < 1 else -math.inf)
        f.append(term)
    total = 0.0
    for i in range(len(xs) - 1):
        total += (xs[i + 1] - xs[i]) * (f[i] + f[i + 1]) / 2
    return total
''',
        "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    if np.ndim(xs) != 1 or len(xs) < 2 or not (
            np.shape(pr_x) == np.shape(pg_x) == np.shape(xs)):
        raise ValueError("need 1-D arrays of one length >= 2")
    f = []
    for a, b in zip(pr_x, pg_x):
        if a < 0 or b < 0:
            raise ValueError("densities must be >= 0")
        m = (a + b) / 2
        term = 0.0
        if a > 0:
            term += 0.5 * a * math.log(a / m)
        if b > 0:
            term += 0.5 * b * math.log(b / m)
        f.append(term)
    return sum((xs[i + 1] - xs[i]) * (f[i] + f[i + 1]) / 2 for i in range(len(xs) - 1))
''',
    },
    # scipy's xlogy and rel_entr; the JSD as 2 JSD = KL(p_r || m) + KL(p_g || m) written
    # through rel_entr, returned as a 0-d array
    "scipy": {
        "q1": '''
def optimal_discriminator(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape:
        raise ValueError("shapes differ")
    if min(pr.min(initial=0.0), pg.min(initial=0.0)) < 0:
        raise ValueError("negative density")
    total = pr + pg
    safe = np.where(total == 0, 1.0, total)
    return np.where(total == 0, 0.5, pr / safe)
''',
        "q2": '''
from scipy.special import xlogy


def gan_value(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(v, dtype=float) for v in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or {d.shape, pr.shape, pg.shape} != {xs.shape}:
        raise ValueError("need 1-D arrays of one length >= 2")
    if pr.min() < 0 or pg.min() < 0 or d.min() < 0 or d.max() > 1:
        raise ValueError("densities must be >= 0 and d in [0, 1]")
    f = xlogy(pr, d) + xlogy(pg, 1 - d)
    return float(np.dot(np.diff(xs), (f[:-1] + f[1:]) / 2))
''',
        "q3": '''
from scipy.special import rel_entr


def jensen_shannon(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or {pr.shape, pg.shape} != {xs.shape}:
        raise ValueError("need 1-D arrays of one length >= 2")
    if pr.min() < 0 or pg.min() < 0:
        raise ValueError("densities must be >= 0")
    m = (pr + pg) / 2
    f = (rel_entr(pr, m) + rel_entr(pg, m)) / 2
    return np.asarray(np.dot(np.diff(xs), (f[:-1] + f[1:]) / 2))
''',
    },
}

WITHOUT_VALIDATION = {
    "lax": {
        "q1": '''
def optimal_discriminator(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    total = pr + pg
    return np.where(total > 0, pr / np.where(total > 0, total, 1.0), 0.5)
''',
        "q2": '''
def gan_value(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(a, dtype=float) for a in (d_x, pr_x, pg_x, xs))
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(pr > 0, pr * np.log(d), 0.0) + np.where(pg > 0, pg * np.log(1 - d), 0.0)
    return float(np.trapezoid(f, xs))
''',
        "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    m = (pr + pg) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * (np.where(pr > 0, pr * np.log(pr / m), 0.0) +
                   np.where(pg > 0, pg * np.log(pg / m), 0.0))
    return float(np.trapezoid(f, xs))
''',
    },
}
