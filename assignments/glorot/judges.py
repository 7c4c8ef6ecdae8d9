"""Property judges for the glorot checks that have no single right answer.

judge(inputs, outputs, expected) -> (fraction of the points, messages). They run on the
trusted side and are embedded verbatim in the otter test files, so: numpy and scipy only, no
reference, and no Glorot formula. The target distribution arrives in judge-only inputs
(`_limit`, `_variance`, `_std`, computed by checks.py on the trusted side; keys starting with
"_" never reach the sandbox). The sandbox does get question 2's values for the check's sizes
(`given`: the stand-ins that grade question 3 apart from question 2), which is what a sampler
calling glorot_uniform_limit receives anyway: the samplers are judged on the distribution they
draw, not on knowing the formula of question 2. `expected` (the
reference's own sample for the same seed) is not used by the sample judges: any correct
sampler must pass, whatever draw calls it makes. Numbers of the target law and the allowed
deviations are quoted only where the inputs say so (`_show_numbers`: public checks, whose
inputs and expected values the student's test files hold anyway); a hidden check's messages
say what kind of thing is wrong. Messages are data (checklib.say); their wording in each
language is in messages.toml.

False failures (a correct implementation losing points)
--------------------------------------------------------
A sample judge looks at the n = n_in * n_out entries of W, assumed independent, and runs
three random tests, each at level DELTA = 1e-8 (probability of rejecting a correct sampler):

1. mean.   normal: the sample mean is exactly N(0, std^2 / n), so |mean| <= Z * std / sqrt(n)
           with Z = Phi^-1(1 - DELTA / 2) = 5.73.
           uniform: entries lie in [-a, a]; Hoeffding: P(|mean| >= t) <= 2 exp(-n t^2 / (2 a^2)),
           so t1 = a * sqrt(2 ln(2 / DELTA) / n).
2. variance.  normal: sum((w - mean)^2) / std^2 is exactly chi^2 with n - 1 degrees of freedom;
           accept between its DELTA/2 and 1 - DELTA/2 quantiles.
           uniform: w^2 lies in [0, a^2]; Hoeffding on the second moment m2 = mean(w^2):
           P(|m2 - a^2/3| >= t) <= 2 exp(-2 n t^2 / a^4), t2 = a^2 * sqrt(ln(2 / DELTA) / (2 n)).
           np.var = m2 - mean^2, so outside the event of test 1 (already counted) the sample
           variance is within t2 + t1^2 of a^2/3: no extra probability is spent.
3. shape of the distribution: scipy.stats.kstest(method="exact") against U(-a, a) or
           N(0, std^2); its p-value comes from the exact distribution of the two-sided KS
           statistic (scipy's kstwo), so P(p < DELTA) = DELTA for a continuous law. Floats are
           discrete at 2^-52 relative spacing, which moves D by far less than the threshold.

Bounds are deterministic for the uniform (|w| <= a, up to 1e-12 relative rounding); for the
normal the bound |w| <= 12 std fails with probability n * P(|Z| > 12) < n * 3.6e-33.

Per sample judge: at most 3 * DELTA + 1e-26 = 3.0e-8. Question 3 runs four sample judges per
submission (two public, two hidden): union bound 4 * 3.0e-8 = 1.2e-7 < 1e-6 per submission.
Per-student variants change the sizes and seed of the two public sample checks (checks.py
draws 15,400 to 32,000 entries with fans at least 120 apart), not their number, so the budget
is the same for every student.

`activation_band` has no randomness of its own: the draws are fixed by the seed and the order
the API prescribes, so a correct implementation reproduces the reference's numbers and passes
exactly when the reference does. Its thresholds have a wide margin, measured when they were
chosen (tests/test_glorot_grading.py re-measures 60 draws): over 1,500 random draws of width
32..128, 200..400 examples and seed, 10 layers, Glorot's smallest per-layer variance was
0.028 (mean 0.051, sd 0.0053; the floor 0.01 is 7.7 sd below the mean) and its largest 0.41
(ceiling 0.6), N(0, 0.01^2) reached at most 1.4e-19 at layer 10 (ceiling 1e-8) and N(0, 1)
at least 0.82 (floor 0.7). The public band check of a per-student variant is drawn from the
same ranges (checks.variant), so these margins cover it too.
"""

import math

import numpy as np
import scipy.stats

from checklib import say

DELTA = 1e-8                       # level of each random test; see the module docstring
NORMAL_BOUND_STDS = 12.0
ROUNDING = 1e-12                   # relative slack on the uniform's bounds

# activation_band: per-layer variances of tanh activations over 10 layers of square width.
GLOROT_FLOOR = 0.01                # every layer of the Glorot run stays at or above this ...
GLOROT_CEILING = 0.6               # ... and at or below this (tanh saturation gives > 0.8)
SMALL_CEILING = 1e-8               # N(0, 0.01^2): the last layer has collapsed below this
LARGE_FLOOR = 0.7                  # N(0, 1): the last layer is saturated above this
# ... and the runs are the course's runs on the same draws: as the activation_variances value
# checks (matmul summation order changes the last bits only).
SAME_DRAWS_RTOL = 1e-9
SAME_DRAWS_ATOL = 1e-12


# ---------------------------------------------------------------------------- samples

def _matrix(outputs, n_in, n_out):
    """(W as a float array, problems). W must be an (n_in, n_out) array of finite numbers."""
    W = outputs.get("W") if isinstance(outputs, dict) else None
    if not isinstance(W, np.ndarray):
        return None, [say("glorot.not-array", n_in=n_in, n_out=n_out, type=type(W).__name__)]
    if W.shape != (n_in, n_out):
        if W.shape == (n_out, n_in):
            return None, [say("glorot.transposed", shape=W.shape, n_in=n_in, n_out=n_out)]
        return None, [say("glorot.shape", shape=W.shape, n_in=n_in, n_out=n_out)]
    W = W.astype(np.float64)
    if not np.isfinite(W).all():
        return None, [say("glorot.not-finite", count=int((~np.isfinite(W)).sum()))]
    return W.ravel(), []


def _variance_names(n_in, variance):
    """Wrong variances a sampler is often built on, as {message key: value}."""
    return {
        "glorot.var.lecun": 1.0 / n_in,
        "glorot.var.no-factor-2": variance / 2.0,
    }


def _named(observed, candidates, rel):
    """A note naming the wrong variance the observed one matches within relative width rel,
    if exactly one does: where two wrong variances lie within the sample's reach of each
    other (LeCun's 1/250 and the limit sqrt(2 Var) at 250 x 80 differ by 1%), the sample
    cannot tell which mistake was made, so neither is named."""
    matches = [key for key, value in candidates.items()
               if value > 0 and abs(observed / value - 1.0) <= rel]
    return [say("glorot.variance-matches", name=say(matches[0]))] if len(matches) == 1 else []


def _likely(notes):
    return [say("glorot.likely-mistake", note=note) for note in notes]


def glorot_uniform_sample(inputs, outputs, expected):
    """W must look like independent draws from U(-limit, limit)."""
    n_in, n_out = int(inputs["n_in"]), int(inputs["n_out"])
    a, variance = float(inputs["_limit"]), float(inputs["_variance"])
    show = bool(inputs.get("_show_numbers"))
    w, problems = _matrix(outputs, n_in, n_out)
    if w is None:
        return 0.0, problems
    n = w.size
    log_term = math.log(2.0 / DELTA)
    t1 = a * math.sqrt(2.0 * log_term / n)
    t2 = a * a * math.sqrt(log_term / (2.0 * n))
    rel = (t2 + t1 * t1) / variance
    mean, var = float(w.mean()), float(w.var())
    notes = []
    if abs(mean) > t1:
        problems.append(say("glorot.mean-shown", mean=mean, limit=t1, n=n) if show else
                        say("glorot.mean", mean=mean))
        if w.min() >= 0 and abs(mean - a / 2) <= t1:
            notes.append(say("glorot.note.half-uniform"))
    if abs(var - variance) > rel * variance:
        problems.append(say("glorot.variance-shown", var=var, target=variance,
                            off=abs(var / variance - 1), allowed=rel, n=n) if show else
                        say("glorot.variance-large" if var > variance
                            else "glorot.variance-small", var=var))
        candidates = _variance_names(n_in, variance)
        candidates["glorot.var.std-as-limit"] = variance / 3.0
        candidates["glorot.var.no-sqrt"] = 3.0 * variance * variance
        candidates["glorot.var.limit-two-variances"] = 2.0 * variance / 3.0
        notes += _named(var, candidates, rel)
    outside = int((np.abs(w) > a * (1.0 + ROUNDING)).sum())
    if outside:
        problems.append(say("glorot.outside-shown", outside=outside, n=n, low=-a, high=a)
                        if show else say("glorot.outside", outside=outside, n=n))
    ks = scipy.stats.kstest(w, "uniform", args=(-a, 2.0 * a), method="exact")
    if ks.pvalue < DELTA:
        problems.append(say("glorot.not-uniform-shown", statistic=float(ks.statistic),
                            pvalue=float(ks.pvalue), delta=DELTA) if show else
                        say("glorot.not-uniform"))
        if outside and abs(var - variance) <= rel * variance:
            notes.append(say("glorot.note.looks-normal"))
    if problems:
        return 0.0, problems + _likely(notes)
    return 1.0, []


def glorot_normal_sample(inputs, outputs, expected):
    """W must look like independent draws from N(0, std^2)."""
    n_in, n_out = int(inputs["n_in"]), int(inputs["n_out"])
    std, variance = float(inputs["_std"]), float(inputs["_variance"])
    show = bool(inputs.get("_show_numbers"))
    w, problems = _matrix(outputs, n_in, n_out)
    if w is None:
        return 0.0, problems
    n = w.size
    z = scipy.stats.norm.isf(DELTA / 2.0)
    mean_limit = z * std / math.sqrt(n)
    low = scipy.stats.chi2.ppf(DELTA / 2.0, n - 1) / (n - 1)
    high = scipy.stats.chi2.isf(DELTA / 2.0, n - 1) / (n - 1)
    rel = max(1.0 - low, high - 1.0)
    mean = float(w.mean())
    s2 = float(((w - mean) ** 2).sum() / (n - 1))
    notes = []
    if abs(mean) > mean_limit:
        problems.append(say("glorot.mean-shown", mean=mean, limit=float(mean_limit), n=n)
                        if show else say("glorot.mean", mean=mean))
    if not low <= s2 / variance <= high:
        problems.append(say("glorot.variance-range-shown", var=s2, target=variance,
                            off=abs(s2 / variance - 1), low=float(low - 1),
                            high=float(high - 1), n=n) if show else
                        say("glorot.variance-large" if s2 > variance
                            else "glorot.variance-small", var=s2))
        candidates = _variance_names(n_in, variance)
        candidates["glorot.var.scale-variance"] = variance * variance
        candidates["glorot.var.limit-as-std"] = 3.0 * variance
        notes += _named(s2, candidates, rel)
    outside = int((np.abs(w) > NORMAL_BOUND_STDS * std).sum())
    if outside:
        problems.append(say("glorot.beyond", outside=outside, n=n, stds=NORMAL_BOUND_STDS))
    ks = scipy.stats.kstest(w, "norm", args=(0.0, std), method="exact")
    if ks.pvalue < DELTA:
        problems.append(say("glorot.not-normal-shown", statistic=float(ks.statistic),
                            pvalue=float(ks.pvalue), delta=DELTA) if show else
                        say("glorot.not-normal"))
        if low <= s2 / variance <= high and np.abs(w).max() <= math.sqrt(3.0) * std * (1 + 1e-9):
            notes.append(say("glorot.note.looks-uniform"))
    if problems:
        return 0.0, problems + _likely(notes)
    return 1.0, []


# ---------------------------------------------------------------------------- deep network

def _variances(outputs, key, n_layers):
    """(list of floats, problems) for one run of activation_variances."""
    value = outputs.get(key) if isinstance(outputs, dict) else None
    if not isinstance(value, (list, tuple)):
        return None, [say("glorot.run.not-list", key=key, n_layers=n_layers,
                          type=type(value).__name__)]
    if len(value) == n_layers + 1:
        return None, [say("glorot.run.includes-input", key=key, count=len(value),
                          n_layers=n_layers)]
    if len(value) != n_layers:
        return None, [say("glorot.run.count", key=key, count=len(value), n_layers=n_layers)]
    try:
        values = [float(np.asarray(v, dtype=np.float64).reshape(())) for v in value]
    except (TypeError, ValueError):
        return None, [say("glorot.run.not-numbers", key=key)]
    if not all(math.isfinite(v) for v in values):
        return None, [say("glorot.run.not-finite", key=key)]
    return values, []


def _same_draws(runs, expected, n_layers):
    """The keys whose run differs from the course's run on the same draws (expected)."""
    differ = []
    for key, values in runs.items():
        want, _ = _variances(expected, key, n_layers)
        if want is None or not np.allclose(values, want, rtol=SAME_DRAWS_RTOL,
                                           atol=SAME_DRAWS_ATOL):
            differ.append(key)
    return differ


def activation_band(inputs, outputs, expected):
    """Glorot keeps every layer's variance in a band where N(0, 0.01^2) collapses to nothing
    and N(0, 1) saturates; values above 1 cannot be variances of tanh outputs. The draws are
    fixed by the seed and the prescribed order, so the runs must also be the course's runs
    (expected): values merely inside the band, made up, do not pass."""
    n_layers = int(inputs["n_layers"])
    runs, problems = {}, []
    for key in ("glorot", "small", "large"):
        values, found = _variances(outputs, key, n_layers)
        problems += found
        if values is not None:
            runs[key] = values
    above_one = [key for key, values in runs.items() if max(values) > 1.0 + 1e-12]
    if above_one:
        problems.append(say("glorot.above-one", keys=", ".join(above_one)))
    if "glorot" in runs and not above_one:
        low, high = min(runs["glorot"]), max(runs["glorot"])
        if low < GLOROT_FLOOR or high > GLOROT_CEILING:
            problems.append(say("glorot.band-outside", low=low, high=high, n_layers=n_layers))
    if "small" in runs and not above_one and runs["small"][-1] > SMALL_CEILING:
        problems.append(say("glorot.small-not-vanished", value=runs["small"][-1]))
    if "large" in runs and not above_one and runs["large"][-1] < LARGE_FLOOR:
        problems.append(say("glorot.large-not-saturated", value=runs["large"][-1]))
    differ = _same_draws(runs, expected, n_layers)
    if differ and not problems:
        problems.append(say("glorot.not-prescribed", keys=", ".join(differ)))
    return (0.0, problems) if problems else (1.0, [])
