"""Property judges of the gan checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
Messages are data (checklib.say); their wording in each language is in messages.toml.
"""

import math

import numpy as np

from checklib import say

# Values are compared with the course's as the value checks are: |actual - expected| <=
# VALUE_ATOL + VALUE_RTOL |expected| (same trapezoid rule, another summation order).
VALUE_RTOL = 1e-9
VALUE_ATOL = 1e-12
# A perturbed discriminator "beats" D* when its value exceeds V(D*) by more than this.
# The perturbations change D by 1e-2 or more and lower V by 1e-5 or more; rounding in a
# 1,000-point trapezoid sum is ~1e-13.
MAXIMUM_SLACK = 1e-12
# On any grid, with M_r and M_g the trapezoid masses of the two densities, the trapezoid
# rule satisfies V(D*) = 2 JSD - log 2 (M_r + M_g) exactly (point by point before summing):
# -2 log 2 + 2 JSD for densities of mass 1. Only rounding separates the two sides.
IDENTITY_ATOL = 1e-8


class _NotANumber(TypeError):
    pass


def _number(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _NotANumber(type(value).__name__)
    return float(value)


def _why(exc):
    """Why an output is not a number (or a list of numbers), as a message."""
    if isinstance(exc, _NotANumber):
        return say("gan.got-type", type=exc.args[0])
    if isinstance(exc, KeyError):
        return say("gan.no-output", name=str(exc.args[0]))
    return say("gan.unreadable")


def _close(actual, expected):
    if math.isinf(expected) or math.isnan(expected):
        return actual == expected or (math.isnan(actual) and math.isnan(expected))
    return abs(actual - expected) <= VALUE_ATOL + VALUE_RTOL * abs(expected)


def _trapezoid(f, xs):
    f, xs = np.asarray(f, dtype=float), np.asarray(xs, dtype=float)
    return 0.5 * float(np.dot(np.diff(xs), f[1:] + f[:-1]))


def d_star_maximizes(inputs, outputs, expected):
    """Does the student's V at the student's D* reach the course's maximum, with the student's
    V right at discriminators near D* (chosen by the grader), so that D* beats them all?

    Compared with the course's values, not with each other: a gan_value that ignores D gives
    every discriminator one value and would otherwise "maximize" V everywhere.
    """
    try:
        best = _number(outputs["best"])
        others = [_number(v) for v in outputs["others"]]
    except (KeyError, TypeError) as exc:
        return 0.0, [say("gan.not-float", why=_why(exc))]
    want_best = _number(expected["best"])
    want_others = [_number(v) for v in expected["others"]]
    if len(others) != len(want_others):
        return 0.0, [say("gan.not-every")]
    if not math.isfinite(best):
        return 0.0, [say("gan.not-finite")]
    messages = []
    wrong = sum(not _close(v, w) for v, w in zip(others, want_others))
    if wrong:
        messages.append(say("gan.wrong-near", wrong=wrong, total=len(others)))
    beaten = sum(not v <= best + MAXIMUM_SLACK for v in others)
    if beaten:
        messages.append(say("gan.beaten", beaten=beaten, total=len(others)))
    if not _close(best, want_best) and not messages:
        messages.append(say("gan.not-maximum"))
    elif not _close(best, want_best):
        messages.append(say("gan.value-wrong"))
    return (0.0, messages) if messages else (1.0, [])


def optimum_identity(inputs, outputs, expected):
    """Do the student's V(D*) and JSD both have the course's values (so that V(D*) =
    -2 log 2 + 2 JSD holds, grid masses M ~ 1)? The identity alone is not enough: a V that
    ignores D and a JSD of 0 satisfy it."""
    try:
        value, jsd = _number(outputs["value"]), _number(outputs["jsd"])
    except (KeyError, TypeError) as exc:
        return 0.0, [say("gan.not-floats", why=_why(exc))]
    value_ok = _close(value, _number(expected["value"]))
    jsd_ok = _close(jsd, _number(expected["jsd"]))
    if value_ok and jsd_ok:
        return 1.0, []
    mass = _trapezoid(inputs["pr_x"], inputs["xs"]) + _trapezoid(inputs["pg_x"], inputs["xs"])
    holds = abs(value - (2 * jsd - math.log(2.0) * mass)) <= IDENTITY_ATOL
    messages = []
    if not value_ok:
        messages.append(say("gan.value-wrong"))
    if not jsd_ok:
        messages.append(say("gan.jsd-wrong"))
    messages.append(say("gan.identity-holds" if holds else "gan.identity-fails"))
    return 0.0, messages
