"""Property judges of the backprop checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
"""

import numpy as np

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


def gradient_check(inputs, outputs, expected):
    """Does the student's backward agree with central differences of their own cost?

    One quarter of the points per parameter whose gradient has the parameter's shape and
    passes ||a - n|| <= 1e-6 (||a|| + ||n||) + 1e-10.
    """
    if not isinstance(outputs, dict) or not isinstance(outputs.get("analytic"), dict):
        return 0.0, ["backward must return a dict with keys dW1, db1, dW2, db2"]
    analytic, numeric = outputs["analytic"], outputs.get("numeric") or {}
    messages, passed = [], 0
    for name in PARAMETERS:
        key = "d" + name
        shape = np.shape(inputs["params"][name])
        if key not in analytic:
            messages.append(f"gradient check: backward returned no {key!r}")
            continue
        try:
            a = np.asarray(analytic[key], dtype=float)
        except (TypeError, ValueError):
            messages.append(f"gradient check: {key} is not a numeric array")
            continue
        if a.shape != shape:
            messages.append(f"gradient check: {key} has shape {a.shape}, but {name} has "
                            f"shape {shape}")
            continue
        n = np.asarray(numeric.get(key), dtype=float)
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(n))):
            messages.append(f"gradient check: {key} or the numerical estimate from your "
                            f"forward and compute_cost is not finite")
            continue
        diff = float(np.linalg.norm(a - n))
        scale = float(np.linalg.norm(a) + np.linalg.norm(n))
        allowed = GRADIENT_CHECK_RTOL * scale + GRADIENT_CHECK_ATOL
        if diff <= allowed:
            passed += 1
        else:
            rel = diff / scale if scale > 0 else float("inf")
            messages.append(
                f"gradient check: {key} disagrees with central differences of your own "
                f"compute_cost(forward(X, params)[0], Y): relative error "
                f"||analytic - numeric|| / (||analytic|| + ||numeric||) = {rel:.3g}, allowed "
                f"{GRADIENT_CHECK_RTOL:g} (plus {GRADIENT_CHECK_ATOL:g} absolute)")
    return passed / len(PARAMETERS), messages
