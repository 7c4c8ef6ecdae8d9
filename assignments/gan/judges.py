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


def d_star_maximizes(inputs, outputs, expected):
    """Does the student's V at D* reach the course's maximum, with the student's V right at
    discriminators near D* (D* and those chosen by the grader), so that D* beats them all?

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
    """Does the student's JSD satisfy V(D*) = -2 log 2 + 2 JSD with the course's V(D*)?

    On any grid the trapezoid rule gives V(D*) = 2 JSD - log 2 (M_r + M_g) exactly (point by
    point; M_r, M_g the trapezoid masses of the densities, ~1), so the identity holds exactly
    when the student's JSD is the course's: that is what is compared. V(D*) is the course's,
    not that of the student's optimal_discriminator and gan_value, so q3 is graded on its own
    function (and a gan_value that ignores D cannot make up for a JSD of 0)."""
    try:
        jsd = _number(outputs["jsd"])
    except (KeyError, TypeError) as exc:
        return 0.0, [say("gan.not-floats", why=_why(exc))]
    if _close(jsd, _number(expected["jsd"])):
        return 1.0, []
    return 0.0, [say("gan.jsd-wrong"), say("gan.identity-fails")]
