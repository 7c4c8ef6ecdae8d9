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
# The student's cost may differ from the course's by a positive factor and a constant (a
# summed instead of averaged cost is still a cost whose gradient backward can be checked
# against), but it must move with the parameters: a factor below this is a cost that does
# not depend on them (a constant cost with zero gradients is the fabricated case).
MIN_COST_SCALE = 1e-6
PARAMETERS = ("W1", "b1", "W2", "b2")


def _differences(outputs, shapes, eps):
    """{name: central differences} from the returned costs, or None if they are unusable."""
    if not isinstance(outputs, dict):
        return None
    plus, minus = outputs.get("cost_plus"), outputs.get("cost_minus")
    if not (isinstance(plus, dict) and isinstance(minus, dict)):
        return None
    numeric = {}
    for name in PARAMETERS:
        try:
            p = np.asarray(plus[name], dtype=float)
            m = np.asarray(minus[name], dtype=float)
        except (KeyError, TypeError, ValueError):
            return None
        if p.shape != shapes[name] or m.shape != shapes[name]:
            return None
        numeric[name] = (p - m) / (2.0 * eps)
    return numeric


def _agree(a, b):
    diff = float(np.linalg.norm(a - b))
    scale = float(np.linalg.norm(a) + np.linalg.norm(b))
    return diff <= GRADIENT_CHECK_RTOL * scale + GRADIENT_CHECK_ATOL


def gradient_check(inputs, outputs, expected):
    """Does the student's backward agree with central differences of their own cost, and is
    that cost the course's cost (up to a positive factor and a constant)?

    The parent takes the differences of the costs the probe returned. The student's
    differences must be k times the reference's for one k >= MIN_COST_SCALE (so a cost that
    ignores the parameters fails); then one quarter of the points per parameter whose
    gradient has the parameter's shape and passes ||a - n|| <= 1e-6 (||a|| + ||n||) + 1e-10.
    """
    if not isinstance(outputs, dict) or not isinstance(outputs.get("analytic"), dict):
        return 0.0, [say("backprop.not-a-dict")]
    shapes = {name: np.shape(inputs["params"][name]) for name in PARAMETERS}
    eps = float(inputs["eps"])
    numeric = _differences(outputs, shapes, eps)
    course = _differences(expected, shapes, eps)
    if numeric is None or course is None:
        return 0.0, [say("backprop.cost-not-number")]
    n = np.concatenate([numeric[k].ravel() for k in PARAMETERS])
    r = np.concatenate([course[k].ravel() for k in PARAMETERS])
    if not np.all(np.isfinite(n)):
        return 0.0, [say("backprop.cost-not-finite")]
    k = float(np.dot(n, r) / np.dot(r, r)) if np.dot(r, r) > 0 else 0.0
    if not (k >= MIN_COST_SCALE and _agree(n, k * r)):
        return 0.0, [say("backprop.cost-not-course")]
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
