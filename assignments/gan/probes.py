"""GAN probes: what the grader calls in a submission (runs inside the sandbox).

Each probe takes the submission's names and plain-data inputs (densities sampled on a grid
xs, discriminator values) and returns raw outputs; it holds no expected value. Each question is
graded on its own function: where a property relates the functions (D* maximizes V; V(D*) =
-2 log 2 + 2 JSD), the earlier function's part comes from the grader (the D* given to
d_star_maximizes), and the parent judges the raw values against the course's.
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


def d_star_maximizes(ns, pr_x, pg_x, xs, d_star, others):
    """The student's value at D* and at the discriminators `others` near it, all given by the
    grader (so q2 is graded without the student's optimal_discriminator of q1); the parent
    compares them with the course's values."""
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


def jensen_shannon_on_notebook_data(ns, pr_x, pg_x, xs):
    """jensen_shannon of the notebook's own p_real and p_gen on its grid xs (the student's
    variant); the inputs are that variant's densities, used where the notebook does not define
    them (as in the reference). A notebook carrying another student's numbers answers for
    those."""
    return {"jsd": ns["jensen_shannon"](ns.get("p_real", pr_x), ns.get("p_gen", pg_x),
                                        ns.get("xs", xs))}
