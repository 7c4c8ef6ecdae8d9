"""Glorot checks: inputs and tolerances (trusted side). Points add up per question.

Formulas are compared with the reference to rtol 1e-12 (exact up to rounding order). Samplers
are judged statistically (judges.py), so any correct sampler passes; two small public checks
also compare the draws with the reference, since the API fixes them (one draw call with the
given Generator), and activation_variances is compared with the reference on the same seed
because its draw order is fixed too.

Per-student variants (CANONICAL, variant(rng)) redraw the layer sizes of the public checks, the
seeds of the public draws and the notebook's demo (the shape and seed of X_demo, the depth and
width of the experiment); the notebook's text and setup cell print them. One public check runs
activation_variances on the notebook's own X_demo, so a notebook carrying another student's
numbers loses it.

Input validation (raising ValueError, Check.validation) carries 1 of the 10 points: the course
grades the mathematics. The valid calls mixed into the validation checks include layers of one
unit (n = 1 is a valid fan) and a network of one layer.

Question 3 is graded apart from question 2: its probes let glorot_variance and
glorot_uniform_limit stand in with the right results for the check's sizes (`given`, see
_given and probes.py), so a sampler that calls a wrong question 2 function keeps its points.
"""

import math

import numpy as np

from neurograde.checklib import EXACT, Tol
from neurograde.spec import Check

FORMULA = Tol(atol=0.0, rtol=1e-12)
# Same draws, possibly computed as -a + 2a*u or scale*z in another order: ulps, not more.
DRAWS = Tol(atol=1e-12, rtol=1e-9)
# Same draws through the same network: matmul summation order changes the last bits only.
NETWORK = Tol(atol=1e-12, rtol=1e-9)
BAND_LAYERS = 10


def _target(n_in, n_out):
    """The distribution a sample judge tests against (the judges hold no formula). Its keys
    start with "_": judge-only inputs, never sent to the sandbox, where a forged probe would
    draw a perfect sample from them."""
    variance = 2.0 / (n_in + n_out)
    return dict(_variance=variance, _limit=math.sqrt(3.0 * variance), _std=math.sqrt(variance))


def _given(fans):
    """Question 2's results for these layer sizes, for the stand-ins of the question 3 probes
    (probes._given): one row [n_in, n_out, result] per size, result None where a fan is below
    1 (the function raises ValueError there)."""
    def rows(key):
        return [[n_in, n_out, _target(n_in, n_out)[key] if min(n_in, n_out) >= 1 else None]
                for n_in, n_out in fans]
    return {"glorot_variance": rows("_variance"), "glorot_uniform_limit": rows("_limit")}


def _sample_inputs(n_in, n_out, seed, kind, public=False):
    """A sampler's inputs; public checks also tell the judge it may quote the target law
    (public inputs and expected values are in the student's test files anyway). The target
    law stays judge-only; `given` hands question 2's values for these sizes to the stand-ins,
    which is no more than a sampler calling glorot_uniform_limit gets anyway."""
    target = _target(n_in, n_out)
    keep = ("_limit", "_variance") if kind == "uniform" else ("_std", "_variance")
    return dict(n_in=n_in, n_out=n_out, seed=seed, _show_numbers=public,
                given=_given([[n_in, n_out]]), **{k: target[k] for k in keep})


def _random_sample(kind):
    def inputs(rng):
        # About 20,000 entries (the power analysis in judges.py assumes >= 15,000), fans at
        # least 20 apart so that a transposed matrix has the wrong shape.
        small = int(rng.integers(64, 129))
        large = math.ceil(20000 / small) + int(rng.integers(0, 40))
        n_in, n_out = (small, large) if rng.random() < 0.5 else (large, small)
        return _sample_inputs(n_in, n_out, int(rng.integers(2**31)), kind)
    return inputs


# --- variants ---------------------------------------------------------------------------

# The course's exercise is the canonical variant: a release without a roster prints and checks
# exactly these numbers.
CANONICAL = {
    "preact_fans": [100, 256, 1, 784],            # n_in of the q1 public cases
    "fans": [[300, 100], [784, 256], [1, 1], [10, 1000]],   # q2 public layer sizes
    "sample_fans": [250, 80], "sample_seed": 0,   # q3 public sample checks
    "draw_fans": [5, 3], "draw_seed": 1,          # q3 public prescribed-draw checks
    "net_layers": 3, "net_width": 3, "net_seed": 0,   # q4 small fixed network (4 x 6 input)
    "band_width": 64, "band_m": 300, "band_seed": 0,  # q4 public band check
    "demo_seed": 0, "demo_n_in": 100, "demo_m": 1000,  # X_demo in the setup cell
    "demo_layers": 10, "demo_width": 100,         # the experiment the text asks for
    "seed": True,
}


def variant(rng):
    """Another student's numbers: layer sizes with the same properties as the exercise's (unequal
    fans where a mistake would otherwise hide, >= 15,000 entries and fans >= 20 apart for the
    judged samples, the band check within the widths its thresholds were measured on)."""
    def draw(low, high):
        return int(rng.integers(low, high + 1))

    fans = [[draw(200, 400), draw(50, 150)], [int(rng.choice([512, 784, 1024, 3072])),
                                              int(rng.choice([128, 256, 400]))],
            [1, 1], [draw(5, 20), draw(500, 1500)]]
    small, large = draw(70, 100), draw(220, 320)         # 15,400 to 32,000 entries
    sample = [large, small] if rng.random() < 0.5 else [small, large]
    n_in = draw(3, 8)
    draw_fans = [n_in, int(rng.choice([k for k in range(2, 7) if k != n_in]))]
    # Drawn like the hidden band check, whose thresholds judges.py measured on these ranges.
    band = (draw(32, 128), draw(200, 400), draw(1, 2**31 - 1))
    return {
        "preact_fans": [draw(50, 200), int(rng.choice([64, 128, 256, 512, 1024])), 1,
                        draw(300, 1000)],
        "fans": fans,
        "sample_fans": sample, "sample_seed": draw(1, 9999),
        "draw_fans": draw_fans, "draw_seed": draw(2, 999),
        "net_layers": draw(2, 5), "net_width": draw(2, 5), "net_seed": draw(1, 9999),
        "band_width": band[0], "band_m": band[1], "band_seed": band[2],
        "demo_seed": draw(1, 9999), "demo_n_in": 10 * draw(5, 20),
        "demo_m": 100 * draw(5, 15), "demo_layers": draw(8, 14),
        "demo_width": int(rng.choice([64, 80, 96, 112, 128, 150])),
        "seed": False,
    }


# --- q1 --------------------------------------------------------------------------------

def _random_preactivation(rng):
    return dict(cases=[[int(rng.integers(2, 2000)), float(rng.uniform(1e-4, 0.1)),
                        float(rng.uniform(0.1, 5.0))] for _ in range(6)])


# --- q2 --------------------------------------------------------------------------------

def _random_fans(rng):
    fans = [[int(rng.integers(1, 2049)), int(rng.integers(1, 2049))] for _ in range(6)]
    fans[0][1] = fans[0][0] + int(rng.integers(5, 100))   # unequal fans tell LeCun apart
    return fans


def _random_bad_fans(rng):
    good = int(rng.integers(1, 500))
    return dict(fans=_with_valid(rng, [[0, good], [good, 0], [-int(rng.integers(1, 50)), good]]))


def _with_valid(rng, bad):
    """The invalid cases with valid ones inserted at random places: one of random sizes and
    two with a fan of one unit (the smallest valid size, which must not raise). Which calls
    must raise then depends on the inputs, not on a fixed pattern a forged answer could
    replay."""
    fans = [list(f) for f in bad]
    one = int(rng.integers(2, 300))
    for valid in ([int(rng.integers(1, 300)), int(rng.integers(1, 300))], [1, one], [one, 1]):
        fans.insert(int(rng.integers(len(fans) + 1)), valid)
    return fans


def _samplers_reject(rng):
    fans = _with_valid(rng, [[0, int(rng.integers(1, 50))], [int(rng.integers(1, 50)), 0],
                             [int(rng.integers(1, 50)), -1]])
    return dict(fans=fans, seed=int(rng.integers(2**31)), given=_given(fans))


# --- q4 --------------------------------------------------------------------------------

SMALL_X = np.array([[0.5, -1.0, 2.0, 0.0, 1.5, -0.5],
                    [1.0, 0.25, -2.0, 0.75, -1.0, 0.5],
                    [-1.5, 2.0, 0.5, -0.25, 0.0, 1.0],
                    [0.0, -0.5, 1.0, 2.0, -1.5, -1.0]])


def _random_network(rng):
    width = int(rng.integers(8, 65))
    n_in = width + int(rng.integers(5, 40))  # a non-square first layer
    if rng.random() < 0.5:
        init, scale = "normal", float(rng.uniform(0.5, 2.0) / math.sqrt(width))
    else:
        init, scale = "uniform", float(rng.uniform(0.5, 2.0) * math.sqrt(3.0 / width))
    return dict(init=init, scale=scale, n_layers=int(rng.integers(3, 9)), width=width,
                seed=int(rng.integers(2**31)), n_in=n_in, m=int(rng.integers(50, 200)))


def _band(width, m, seed):
    # Square layers, so the Glorot std 2/(n_in + n_out) is the same 1/width at every layer.
    return dict(n_layers=BAND_LAYERS, width=width, m=m, seed=seed,
                stds={"glorot": math.sqrt(1.0 / width), "small": 0.01, "large": 1.0})


def _random_band(rng):
    return _band(int(rng.integers(32, 129)), int(rng.integers(200, 401)),
                 int(rng.integers(2**31)))


def _random_reject(rng):
    """Two invalid calls (1-D X, n_layers = 0) and two valid ones (one layer and a few), in a
    random order."""
    n_in = int(rng.integers(2, 20))
    cases = [[rng.normal(size=n_in), 2], [rng.normal(size=(n_in, 7)), 0],
             [rng.normal(size=(n_in, 7)), 1],
             [rng.normal(size=(n_in, 7)), int(rng.integers(2, 4))]]
    return dict(cases=[cases[k] for k in rng.permutation(len(cases))],
                width=int(rng.integers(2, 10)), seed=int(rng.integers(2**31)))


def checks(v):
    a, b, c, d = v["preact_fans"]
    preact = [[a, 0.01, 1.0], [b, 1 / (2 * b), 2.0], [c, 0.5, 0.5], [d, 0.001, 0.25]]
    fans = [list(f) for f in v["fans"]]
    s_in, s_out = v["sample_fans"]
    d_in, d_out = v["draw_fans"]
    layers, width = v["net_layers"], v["net_width"]
    band = (v["band_width"], v["band_m"], v["band_seed"])
    demo = dict(init="normal", scale=math.sqrt(1.0 / v["demo_width"]),
                n_layers=v["demo_layers"], width=v["demo_width"], seed=v["demo_seed"],
                data_seed=v["demo_seed"], n_in=v["demo_n_in"], m=v["demo_m"])
    return [
        # q1 (1 point)
        Check("q1", "hand-checked values", "preactivation_variance",
              lambda rng: dict(cases=preact), points=0.5, tol=FORMULA),
        Check("q1", "random fan-ins and variances", "preactivation_variance",
              _random_preactivation, points=0.5, hidden=True, tol=FORMULA),
        # q2 (2 points, 0.25 for validation)
        Check("q2", "glorot_variance for four layer sizes", "glorot_formulas",
              lambda rng: dict(function="glorot_variance", fans=fans),
              points=0.5, tol=FORMULA),
        Check("q2", "glorot_uniform_limit for four layer sizes", "glorot_formulas",
              lambda rng: dict(function="glorot_uniform_limit", fans=fans),
              points=0.5, tol=FORMULA),
        Check("q2", "fans below 1 raise ValueError", "glorot_formulas_reject",
              lambda rng: dict(fans=[[0, 5], [5, 0]]), points=0.125, tol=EXACT,
              validation=True),
        Check("q2", "glorot_variance for random layer sizes", "glorot_formulas",
              lambda rng: dict(function="glorot_variance", fans=_random_fans(rng)),
              points=0.375, hidden=True, tol=FORMULA),
        Check("q2", "glorot_uniform_limit for random layer sizes", "glorot_formulas",
              lambda rng: dict(function="glorot_uniform_limit", fans=_random_fans(rng)),
              points=0.375, hidden=True, tol=FORMULA),
        Check("q2", "zero and negative fans raise ValueError", "glorot_formulas_reject",
              _random_bad_fans, points=0.125, hidden=True, tol=EXACT, validation=True),
        # q3 (3 points, 0.25 for validation)
        Check("q3", f"glorot_uniform({s_in}, {s_out}): shape, bounds, mean, variance, KS test",
              "glorot_uniform",
              lambda rng: _sample_inputs(s_in, s_out, v["sample_seed"], "uniform", True),
              points=0.5, judge="glorot_uniform_sample"),
        Check("q3", f"glorot_normal({s_in}, {s_out}): shape, mean, variance, KS test",
              "glorot_normal",
              lambda rng: _sample_inputs(s_in, s_out, v["sample_seed"], "normal", True),
              points=0.5, judge="glorot_normal_sample"),
        Check("q3", f"glorot_uniform({d_in}, {d_out}, default_rng({v['draw_seed']})) makes the "
                    f"prescribed draw", "glorot_uniform",
              lambda rng: _sample_inputs(d_in, d_out, v["draw_seed"], "uniform"),
              points=0.25, tol={"W": DRAWS}),
        Check("q3", f"glorot_normal({d_in}, {d_out}, default_rng({v['draw_seed']})) makes the "
                    f"prescribed draw", "glorot_normal",
              lambda rng: _sample_inputs(d_in, d_out, v["draw_seed"], "normal"),
              points=0.25, tol={"W": DRAWS}),
        Check("q3", "glorot_uniform statistics for random sizes and generators", "glorot_uniform",
              _random_sample("uniform"), points=0.625, hidden=True,
              judge="glorot_uniform_sample"),
        Check("q3", "glorot_normal statistics for random sizes and generators", "glorot_normal",
              _random_sample("normal"), points=0.625, hidden=True,
              judge="glorot_normal_sample"),
        Check("q3", "samplers raise ValueError for zero and negative fans", "samplers_reject",
              _samplers_reject, points=0.25, hidden=True, tol=EXACT, validation=True),
        # q4 (4 points, 0.5 for validation)
        Check("q4", f"{layers} layers of width {width} on a fixed 4 x 6 input",
              "activation_variances",
              lambda rng: dict(init="normal", scale=0.5, n_layers=layers, width=width,
                               seed=v["net_seed"], X=SMALL_X),
              points=0.75, tol={"variances": NETWORK}),
        Check("q4", f"{BAND_LAYERS} layers of width {band[0]}: Glorot stays in band, "
                    f"N(0, 0.01^2) collapses, N(0, 1) saturates", "activation_band",
              lambda rng: _band(*band), points=0.5, judge="activation_band"),
        Check("q4", "1-D X and n_layers = 0 raise ValueError", "activation_variances_reject",
              lambda rng: dict(X_1d=SMALL_X[0], X_2d=SMALL_X, width=3, seed=0),
              points=0.25, tol=EXACT, validation=True),
        Check("q4", "random depth, width, init and generator, non-square first layer",
              "activation_variances", _random_network, points=1.25, hidden=True,
              tol={"variances": NETWORK}),
        Check("q4", "variance band for a random width and generator", "activation_band",
              _random_band, points=0.5, hidden=True, judge="activation_band"),
        Check("q4", "random bad inputs raise ValueError", "activation_variances_cases",
              _random_reject, points=0.25, hidden=True, tol=EXACT, validation=True),
        # appended last: each check draws from the stream of its index, so the hidden
        # checks keep the inputs they had before this check existed
        Check("q4", f"the notebook's own X_demo through {v['demo_layers']} layers of width "
                    f"{v['demo_width']}", "activation_variances_on_notebook_data",
              lambda rng: dict(demo), points=0.5, tol={"variances": NETWORK}),
    ]
