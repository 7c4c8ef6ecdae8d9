"""Property judges of the gan checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages).
"""

import math

import numpy as np

# A perturbed discriminator "beats" D* when its value exceeds V(D*) by more than this.
# The perturbations change D by 1e-2 or more and lower V by 1e-5 or more; rounding in a
# 1,000-point trapezoid sum is ~1e-13.
MAXIMUM_SLACK = 1e-12
# On any grid, with M_r and M_g the trapezoid masses of the two densities, the trapezoid
# rule satisfies V(D*) = 2 JSD - log 2 (M_r + M_g) exactly (point by point before summing):
# -2 log 2 + 2 JSD for densities of mass 1. Only rounding separates the two sides.
IDENTITY_ATOL = 1e-8


def _number(value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _trapezoid(f, xs):
    f, xs = np.asarray(f, dtype=float), np.asarray(xs, dtype=float)
    return 0.5 * float(np.dot(np.diff(xs), f[1:] + f[:-1]))


def d_star_maximizes(inputs, outputs, expected):
    """Does no perturbation of the student's D* reach a higher value of the student's V?"""
    try:
        best = _number(outputs["best"])
        others = [_number(v) for v in outputs["others"]]
    except (KeyError, TypeError) as exc:
        return 0.0, [f"gan_value must return a float ({exc})"]
    if not math.isfinite(best):
        return 0.0, [f"V(D*) with your optimal_discriminator and gan_value is {best}, "
                     f"not a finite number"]
    beaten = [v for v in others if not v <= best + MAXIMUM_SLACK]
    if beaten:
        top = max(beaten)
        return 0.0, [f"{len(beaten)} of {len(others)} perturbed discriminators get a higher "
                     f"value than your D* (best {top:.6g} against V(D*) = {best:.6g}): "
                     f"D* should maximize V"]
    return 1.0, []


def optimum_identity(inputs, outputs, expected):
    """Do the student's functions satisfy V(D*) = -2 log 2 + 2 JSD (grid masses M ~ 1)?"""
    try:
        value, jsd = _number(outputs["value"]), _number(outputs["jsd"])
    except (KeyError, TypeError) as exc:
        return 0.0, [f"gan_value and jensen_shannon must return floats ({exc})"]
    mass = _trapezoid(inputs["pr_x"], inputs["xs"]) + _trapezoid(inputs["pg_x"], inputs["xs"])
    target = 2 * jsd - math.log(2.0) * mass
    error = abs(value - target)
    if error <= IDENTITY_ATOL:
        return 1.0, []
    return 0.0, [f"V(D*) = -2 log 2 + 2 JSD does not hold for your functions: V(D*) = "
                 f"{value:.10g}, but with your JSD = {jsd:.10g} the right side is "
                 f"2 JSD - log 2 (M_r + M_g) = {target:.10g} (M_r + M_g = {mass:.10g} are the "
                 f"grid masses of the densities, 2 up to the tails); they differ by "
                 f"{error:.3g}, more than the allowed {IDENTITY_ATOL:g}"]
