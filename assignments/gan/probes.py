"""GAN probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs (densities sampled on a grid
xs, discriminator values) and returns raw outputs; it holds no expected value. The property
probes (d_star_maximizes, optimum_identity) use several of the student's functions together,
since the properties relate them; the parent judges their raw values against the course's.
"""

import numpy as np

from checklib import raised

def optimal_discriminator(ns, pr_x, pg_x):
    return {"d": ns["optimal_discriminator"](pr_x, pg_x)}


def optimal_discriminator_invalid(ns, pr_x, pg_x):
    negative = np.array(pr_x, dtype=float)
    negative[len(negative) // 2] = -0.1
    return {"shapes_differ": raised(ns["optimal_discriminator"], pr_x, pg_x[:-1]),
            "negative_density": raised(ns["optimal_discriminator"], negative, pg_x)}


def gan_value(ns, d_x, pr_x, pg_x, xs):
    return {"value": ns["gan_value"](d_x, pr_x, pg_x, xs)}


def gan_value_invalid(ns, d_x, pr_x, pg_x, xs):
    negative = np.array(pg_x, dtype=float)
    negative[0] = -1.0
    too_large = np.array(d_x, dtype=float)
    too_large[-1] = 1.5
    value = ns["gan_value"]
    return {"lengths_differ": raised(value, d_x, pr_x, pg_x, xs[:-1]),
            "single_point": raised(value, d_x[:1], pr_x[:1], pg_x[:1], xs[:1]),
            "negative_density": raised(value, d_x, pr_x, negative, xs),
            "d_outside_0_1": raised(value, too_large, pr_x, pg_x, xs)}


def d_star_maximizes(ns, pr_x, pg_x, xs, others):
    """The student's value at the student's D*, and at the discriminators `others` (chosen by
    the grader near the true D*); the parent compares them with the course's values."""
    d_star = ns["optimal_discriminator"](pr_x, pg_x)
    return {"best": ns["gan_value"](d_star, pr_x, pg_x, xs),
            "others": [ns["gan_value"](d, pr_x, pg_x, xs) for d in others]}


def jensen_shannon(ns, pr_x, pg_x, xs):
    return {"jsd": ns["jensen_shannon"](pr_x, pg_x, xs)}


def jensen_shannon_both_orders(ns, pr_x, pg_x, xs):
    jsd = ns["jensen_shannon"]
    return {"jsd_rg": jsd(pr_x, pg_x, xs), "jsd_gr": jsd(pg_x, pr_x, xs)}


def jensen_shannon_cases(ns, cases):
    """What jensen_shannon raised, if anything, for each [pr_x, pg_x, xs] of cases."""
    return {"raises": [raised(ns["jensen_shannon"], pr_x, pg_x, xs) for pr_x, pg_x, xs in cases]}


def optimum_identity(ns, pr_x, pg_x, xs):
    """V(D*, G) and JSD(p_r || p_g), all three functions the student's."""
    d_star = ns["optimal_discriminator"](pr_x, pg_x)
    return {"value": ns["gan_value"](d_star, pr_x, pg_x, xs),
            "jsd": ns["jensen_shannon"](pr_x, pg_x, xs)}


def jensen_shannon_on_notebook_data(ns, pr_x, pg_x, xs):
    """jensen_shannon of the notebook's own p_real and p_gen on its grid xs (the student's
    variant); the inputs are that variant's densities, used where the notebook does not define
    them (as in the reference). A notebook carrying another student's numbers answers for
    those."""
    return {"jsd": ns["jensen_shannon"](ns.get("p_real", pr_x), ns.get("p_gen", pg_x),
                                        ns.get("xs", xs))}
