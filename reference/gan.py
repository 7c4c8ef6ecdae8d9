"""Reference solution: the GAN value function on a 1-D grid, its optimal discriminator
and the Jensen-Shannon divergence (natural logarithms, results in nats).

Densities are sampled on a grid xs; integrals use the trapezoid rule, written out because
np.trapezoid only exists from numpy 2.0 on. Terms 0 * log(0) count as 0, their limit.
"""
import numpy as np


# --- q1 -------------------------------------------------------------------------------

def optimal_discriminator(pr_x, pg_x):
    """D*(x) = p_r(x) / (p_r(x) + p_g(x)) elementwise, and 0.5 where both densities are 0.

    Raises ValueError for different shapes or negative densities.
    """
    pr = np.asarray(pr_x, dtype=float)
    pg = np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape:
        raise ValueError(f"optimal_discriminator: pr_x {pr.shape} and pg_x {pg.shape} differ")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("optimal_discriminator: densities must be >= 0")
    total = pr + pg
    # Where no distribution puts mass D does not affect the value; 1/2 is the limit
    # when both densities shrink together and keeps the result free of 0/0 = nan.
    return np.where(total > 0, pr / np.where(total > 0, total, 1.0), 0.5)


# --- q2 -------------------------------------------------------------------------------

def gan_value(d_x, pr_x, pg_x, xs):
    """V(D, G) = integral of p_r log D + p_g log(1 - D) over the grid xs (trapezoid rule).

    0 * log(0) is taken as 0; a real point with D = 0 (or a fake one with D = 1) gives -inf.
    Raises ValueError unless all inputs are 1-D of the same length >= 2, the densities
    are >= 0 and d_x lies in [0, 1].
    """
    d, pr, pg, xs = (np.asarray(a, dtype=float) for a in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not d.shape == pr.shape == pg.shape == xs.shape:
        raise ValueError(f"gan_value: need 1-D arrays of one length >= 2, got d_x {d.shape}, "
                         f"pr_x {pr.shape}, pg_x {pg.shape}, xs {xs.shape}")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("gan_value: densities must be >= 0")
    if np.any(d < 0) or np.any(d > 1):
        raise ValueError("gan_value: d_x must lie in [0, 1] (it is a probability)")
    with np.errstate(divide="ignore", invalid="ignore"):
        real = np.where(pr > 0, pr * np.log(d), 0.0)
        fake = np.where(pg > 0, pg * np.log1p(-d), 0.0)
    f = real + fake
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)


# --- q3 -------------------------------------------------------------------------------

def jensen_shannon(pr_x, pg_x, xs):
    """JSD(p_r || p_g) = (KL(p_r || m) + KL(p_g || m)) / 2 with m = (p_r + p_g) / 2, in nats.

    Integrals use the trapezoid rule on xs; 0 * log(0) is taken as 0.
    Raises ValueError like gan_value.
    """
    pr, pg, xs = (np.asarray(a, dtype=float) for a in (pr_x, pg_x, xs))
    if xs.ndim != 1 or xs.size < 2 or not pr.shape == pg.shape == xs.shape:
        raise ValueError(f"jensen_shannon: need 1-D arrays of one length >= 2, got pr_x "
                         f"{pr.shape}, pg_x {pg.shape}, xs {xs.shape}")
    if np.any(pr < 0) or np.any(pg < 0):
        raise ValueError("jensen_shannon: densities must be >= 0")
    m = (pr + pg) / 2
    # Where p > 0 also m > 0, so the masked logs are always defined.
    with np.errstate(divide="ignore", invalid="ignore"):
        f = 0.5 * (np.where(pr > 0, pr * np.log(pr / m), 0.0) +
                   np.where(pg > 0, pg * np.log(pg / m), 0.0))
    return float(np.sum((f[1:] + f[:-1]) * np.diff(xs)) / 2)
