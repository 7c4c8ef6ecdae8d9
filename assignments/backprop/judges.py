"""Property judges of the backprop checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
It runs in the trusted parent: the probe only returns what the student's functions returned,
and every difference and norm is taken here. Messages say what kind of thing is wrong and
never quote a number of the expected result or a tolerance (the check is hidden). Messages
are data (checklib.say); their wording in each language is in messages.toml.
"""

import numpy as np

from checklib import say

# Gradient-check threshold on ||analytic - numeric|| / (||analytic|| + ||numeric||).
# Central differences with eps = 1e-5 on this float64 cost are accurate to about 1e-8 in
# that relative error (the reference's worst case over 1,200 random parameter arrays was
# 7e-9), while every wrong backward seen (a missing factor, a transpose, a missing 1/m)
# is off by 1e-2 or more. 1e-6 leaves two orders of magnitude on both sides.
GRADIENT_CHECK_RTOL = 1e-6
# Absolute floor for a gradient that is (nearly) zero, where round-off in the differences
# (~1e-16 * cost / eps ~ 1e-11) dominates any relative error.
GRADIENT_CHECK_ATOL = 1e-10
PARAMETERS = ("W1", "b1", "W2", "b2")


def _agree(a, b):
    diff = float(np.linalg.norm(a - b))
    scale = float(np.linalg.norm(a) + np.linalg.norm(b))
    return diff <= GRADIENT_CHECK_RTOL * scale + GRADIENT_CHECK_ATOL


def gradient_check(inputs, outputs, expected):
    """Does the student's backward agree with central differences of the course's cost?

    The differences (inputs["_numeric"], eps = 1e-5) are taken on the trusted side, of the
    course's cost on the check's network, and never reach the sandbox; the probe returns only
    what backward returned, on the course's cache. One quarter of the points per parameter
    whose gradient has the parameter's shape and passes
    ||a - n|| <= 1e-6 (||a|| + ||n||) + 1e-10.
    """
    if not isinstance(outputs, dict) or not isinstance(outputs.get("analytic"), dict):
        return 0.0, [say("backprop.not-a-dict")]
    shapes = {name: np.shape(inputs["params"][name]) for name in PARAMETERS}
    numeric = {name: np.asarray(inputs["_numeric"][name], dtype=float) for name in PARAMETERS}
    analytic = outputs["analytic"]
    messages, passed = [], 0
    for name in PARAMETERS:
        key = "d" + name
        if key not in analytic:
            messages.append(say("backprop.missing", key=key))
            continue
        try:
            a = np.asarray(analytic[key], dtype=float)
        except (TypeError, ValueError):
            messages.append(say("backprop.not-numeric", key=key))
            continue
        if a.shape != shapes[name]:
            messages.append(say("backprop.shape", key=key, shape=a.shape, name=name,
                                want=shapes[name]))
            continue
        if not np.all(np.isfinite(a)):
            messages.append(say("backprop.not-finite", key=key))
            continue
        if _agree(a, numeric[name]):
            passed += 1
        elif _agree(a, -numeric[name]):
            messages.append(say("backprop.wrong-sign", key=key))
        else:
            messages.append(say("backprop.disagrees", key=key))
    return passed / len(PARAMETERS), messages
