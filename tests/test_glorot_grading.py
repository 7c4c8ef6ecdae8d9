"""Grading of glorot submissions: known mistakes are named in the feedback, the bundled
examples score full / partial / zero, and the statistical judges accept any correct sampler
while rejecting wrong ones."""

import math

import numpy as np
import pytest

from assignment_grading import MistakeAloneGradingTests, feedback, grade, named, \
    notebook_with_code, question
from neurograde import checklib
from neurograde.i18n import say_in
from neurograde.probe import make_plan
from neurograde.spec import load_assignment

SLUG = "glorot"


class TestGrading(MistakeAloneGradingTests):
    """Shared grading tests (see assignment_grading), each mistake also graded alone."""

    slug = SLUG
    judge_words = {"uniform-not-centered": "looks like U(0, limit)",
                   "uniform-transposed": "the matrix is transposed",
                   "normal-variance-as-scale": "rng.normal's scale is the standard deviation",
                   "normal-uses-uniform-limit": "the uniform's limit used as the standard",
                   "activations-include-input": "the list starts with Var(X)",
                   "activations-preactivation": "variances of the pre-activations"}


@pytest.fixture(scope="module")
def glorot():
    return load_assignment(SLUG)


# ---------------------------------------------------------------------------- through the grader

LAX_Q2 = """
def glorot_variance(n_in, n_out):
    return 2.0 / (n_in + n_out)


def glorot_uniform_limit(n_in, n_out):
    return float(np.sqrt(6.0 / (n_in + n_out)))
"""
LAX_Q3 = """
def glorot_uniform(n_in, n_out, rng):
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))
"""
LAX_Q4 = """
def activation_variances(init, n_layers, width, X, rng):
    A, out = np.asarray(X, dtype=float), []
    for _ in range(n_layers):
        A = np.tanh(init(A.shape[0], width, rng).T @ A)
        out.append(float(np.var(A)))
    return out
"""


def test_missing_validation_is_not_mistaken_for_a_variant(glorot, tmp_path, box):
    """A correct submission without the ValueError checks loses exactly the ValueError
    checks, and their feedback names no known mistake (the variants validate like the
    reference, so they never match there)."""
    sources = {"q2": LAX_Q2, "q3": LAX_Q3, "q4": LAX_Q4}
    path = notebook_with_code(glorot, sources, tmp_path / "subs" / "lax.ipynb")
    result = grade(glorot, [path], tmp_path / "out")["lax"]
    failed = [c for c in result.checks if c.score < c.points]
    assert failed and all("ValueError" in c.name for c in failed), [c.name for c in failed]
    assert all(c.mistake is None for c in failed)
    assert "likely mistake" not in "\n".join(f for c in failed for f in c.feedback)


OTHER_CORRECT = {
    "q1": """
def preactivation_variance(n_in, var_w, var_x):
    return var_x * var_w * n_in
""",
    "q2": """
def glorot_variance(n_in, n_out):
    if min(n_in, n_out) < 1:
        raise ValueError("fans must be >= 1")
    return 1 / ((n_in + n_out) / 2)


def glorot_uniform_limit(n_in, n_out):
    return (3 * glorot_variance(n_in, n_out)) ** 0.5
""",
    "q3": """
def glorot_uniform(n_in, n_out, rng):
    if min(n_in, n_out) < 1:
        raise ValueError("fans must be >= 1")
    a = (6 / (n_in + n_out)) ** 0.5
    return rng.uniform(-a, a, size=(n_out, n_in)).T


def glorot_normal(n_in, n_out, rng):
    if min(n_in, n_out) < 1:
        raise ValueError("fans must be >= 1")
    return rng.standard_normal((n_out, n_in)).T * (2 / (n_in + n_out)) ** 0.5
""",
    "q4": """
def activation_variances(init, n_layers, width, X, rng):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or n_layers < 1:
        raise ValueError("X must be 2-D and n_layers >= 1")
    A, out = X, []
    for layer in range(n_layers):
        W = init(A.shape[0], width, rng)
        A = np.tanh((A.T @ W).T)
        out.append(float(((A - A.mean()) ** 2).mean()))
    return out
""",
}


def test_other_correct_code_loses_only_the_prescribed_draw_checks(glorot, tmp_path, box):
    """Formulas in another arithmetic order and a network computed as (A^T W)^T get full
    marks; samplers that are correct but do not make the one prescribed draw call pass every
    statistical check and lose only the two small draw checks (0.25 points each)."""
    path = notebook_with_code(glorot, OTHER_CORRECT, tmp_path / "subs" / "other.ipynb")
    result = grade(glorot, [path], tmp_path / "out")["other"]
    failed = sorted(c.name for c in result.checks if c.score < c.points)
    assert failed == ["glorot_normal(5, 3, default_rng(1)) makes the prescribed draw",
                      "glorot_uniform(5, 3, default_rng(1)) makes the prescribed draw"], failed
    assert result.total == glorot.possible - 0.5


SAMPLERS_CALLING_Q2 = """
def glorot_uniform(n_in, n_out, rng):
    a = glorot_uniform_limit(n_in, n_out)
    return rng.uniform(-a, a, size=(n_in, n_out))


def glorot_normal(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(glorot_variance(n_in, n_out)), size=(n_in, n_out))
"""
WRONG_Q2 = {
    # The case: the limit taken as sqrt(2 Var).
    "two-variance-limit": """
def glorot_variance(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError("fans must be >= 1")
    return 2.0 / (n_in + n_out)


def glorot_uniform_limit(n_in, n_out):
    return float(np.sqrt(2.0 * glorot_variance(n_in, n_out)))
""",
    "lecun": """
def glorot_variance(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError("fans must be >= 1")
    return 1.0 / n_in


def glorot_uniform_limit(n_in, n_out):
    return float(np.sqrt(3.0 * glorot_variance(n_in, n_out)))
""",
}


def test_a_wrong_question_2_costs_question_2_only(glorot, tmp_path, box):
    """Samplers that call glorot_uniform_limit and glorot_variance keep full marks on question 3
    when those are wrong (the q3 probes let the right values stand in), so question 2's mistake
    costs its own points only: a limit sqrt(2 Var) is named as that mistake in question 2 and
    LeCun is named nowhere; a LeCun variance is named in question 2."""
    paths = [notebook_with_code(glorot, {"q2": source, "q3": SAMPLERS_CALLING_Q2},
                                tmp_path / "subs" / f"{name}.ipynb")
             for name, source in WRONG_Q2.items()]
    results = grade(glorot, paths, tmp_path / "out")
    for name, result in results.items():
        lost = {q.id for q in result.questions if q.score < q.possible}
        assert lost == {"q2"}, (name, feedback(result))
    two = results["two-variance-limit"]
    assert named(two) == {"uniform-limit-sqrt-2var"}, feedback(two)
    assert "LeCun" not in feedback(two)
    assert "variance-lecun" in named(results["lecun"])
    assert question(results["lecun"], "q3").score == 3


# ---------------------------------------------------------------------------- sample judges

def _uniform_paths():
    """Correct U(-a, a) samplers that take different routes through the Generator."""
    def draw(n_in, n_out, rng):
        a = math.sqrt(6 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))

    def affine(n_in, n_out, rng):
        a = np.sqrt(3 * 2 / (n_in + n_out))
        return a * (2 * rng.random((n_in, n_out)) - 1)

    def transposed_draw(n_in, n_out, rng):
        a = math.sqrt(6 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_out, n_in)).T

    def inverse_cdf_of_normal(n_in, n_out, rng):
        import scipy.stats
        a = math.sqrt(6 / (n_in + n_out))
        return a * (2 * scipy.stats.norm.cdf(rng.standard_normal((n_in, n_out))) - 1)
    return [draw, affine, transposed_draw, inverse_cdf_of_normal]


def _normal_paths():
    """Correct N(0, 2/(n_in + n_out)) samplers that take different routes."""
    def draw(n_in, n_out, rng):
        return rng.normal(0, math.sqrt(2 / (n_in + n_out)), size=(n_in, n_out))

    def standard(n_in, n_out, rng):
        return rng.standard_normal((n_in, n_out)) / math.sqrt((n_in + n_out) / 2)

    def box_muller(n_in, n_out, rng):
        u1, u2 = 1 - rng.random((n_in, n_out)), rng.random((n_in, n_out))
        z = np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)
        return z * math.sqrt(2 / (n_in + n_out))

    def float32(n_in, n_out, rng):
        std = np.float32(math.sqrt(2 / (n_in + n_out)))
        return rng.standard_normal((n_in, n_out), dtype=np.float32) * std
    return [draw, standard, box_muller, float32]


def _judged(assignment, kind, fn, inputs):
    probe = getattr(assignment.probes, f"glorot_{kind}")
    judge = getattr(assignment.judges, f"glorot_{kind}_sample")
    outputs = probe(checklib.Names({f"glorot_{kind}": fn}), **inputs)
    return judge(inputs, outputs, None)


def _english(messages):
    """A judge's messages (data) as the English lines a student reads."""
    return "\n".join(say_in("en", m, "glorot") for m in messages)


def _sample_checks(assignment, kind):
    return [c for c in assignment.checks if c.judge == f"glorot_{kind}_sample"]


@pytest.mark.parametrize("kind, paths", [("uniform", _uniform_paths()),
                                         ("normal", _normal_paths())])
def test_sample_judges_accept_independent_correct_samplers(glorot, kind, paths):
    """Four correct sampling code paths, each under 12 independent seeds and the sizes of
    the public check and of hidden checks, all get full marks (no message)."""
    checks = _sample_checks(glorot, kind)
    for seed in range(12):
        rng = np.random.default_rng([2024, seed])
        for check in checks:
            inputs = dict(check.inputs(rng), seed=int(rng.integers(2**31)))
            for fn in paths:
                fraction, messages = _judged(glorot, kind, fn, inputs)
                assert fraction == 1.0 and not messages, (fn.__name__, inputs["n_in"],
                                                          inputs["n_out"], messages)


def _wrong_uniform():
    def normal_same_variance(n_in, n_out, rng):
        return rng.normal(0, math.sqrt(2 / (n_in + n_out)), size=(n_in, n_out))

    def lecun(n_in, n_out, rng):
        a = math.sqrt(3 / n_in)
        return rng.uniform(-a, a, size=(n_in, n_out))

    def std_as_limit(n_in, n_out, rng):
        a = math.sqrt(2 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))

    def two_variances(n_in, n_out, rng):
        a = math.sqrt(2 * 2 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))

    def nan(n_in, n_out, rng):
        return np.full((n_in, n_out), np.nan)
    return {normal_same_variance: "this looks like a normal distribution",
            lecun: "LeCun's 1/n_in", std_as_limit: "the normal's standard deviation used",
            two_variances: "limit sqrt(2 Var)", nan: "NaN"}


def _wrong_normal():
    def uniform_same_variance(n_in, n_out, rng):
        a = math.sqrt(6 / (n_in + n_out))
        return rng.uniform(-a, a, size=(n_in, n_out))

    def no_factor_2(n_in, n_out, rng):
        return rng.normal(0, math.sqrt(1 / (n_in + n_out)), size=(n_in, n_out))

    def shifted(n_in, n_out, rng):
        return rng.normal(0.05, math.sqrt(2 / (n_in + n_out)), size=(n_in, n_out))

    def a_list(n_in, n_out, rng):
        return rng.normal(0, math.sqrt(2 / (n_in + n_out)), size=(n_in, n_out)).tolist()
    return {uniform_same_variance: "this looks like a uniform distribution",
            no_factor_2: "the factor 2 of Glorot's variance is missing",
            shifted: "the mean must be 0", a_list: "should return a numpy array"}


@pytest.mark.parametrize("kind, wrong", [("uniform", _wrong_uniform()),
                                         ("normal", _wrong_normal())])
def test_sample_judges_reject_and_name_wrong_samplers(glorot, kind, wrong):
    """Wrong samplers (another distribution with the right variance, wrong variances, a
    shifted mean, NaN, a list) score 0 on the public sample check and on hidden ones, and the
    messages say what is wrong; the mistakes.py variants of the question are rejected too.
    A wrong variance is named only where no other known wrong variance lies within the
    sample's reach (LeCun's and the limit sqrt(2 Var)'s are 1% apart at 250 x 80): then the
    judge names none, never another mistake, and names the right one elsewhere."""
    checks = _sample_checks(glorot, kind)
    variants = [m.variant for m in glorot.mistakes if m.function == f"glorot_{kind}"]
    named_somewhere = set()
    for seed in range(6):
        rng = np.random.default_rng([7, seed])
        for check in checks:
            inputs = check.inputs(rng)
            for fn, words in [*wrong.items(), *((v, "") for v in variants)]:
                fraction, messages = _judged(glorot, kind, fn, inputs)
                assert fraction == 0.0, (fn.__name__, inputs)
                text = _english(messages)
                if words in text:
                    named_somewhere.add(fn)
                else:
                    assert "the variance matches" not in text, (fn.__name__, text)
    assert set(wrong) <= named_somewhere, [fn.__name__ for fn in set(wrong) - named_somewhere]


def test_two_variance_limit_is_not_called_lecun_at_250_by_80(glorot):
    """The issue's case: a uniform sampler with the limit sqrt(2 Var) has sample variance
    (2/3) 2/330 = 0.00404 at 250 x 80, within 1% of LeCun's 1/250: the public check rejects it
    without naming LeCun (or anything else it cannot tell apart); at hidden sizes where the two
    differ it is named for what it is."""
    two_variances = next(fn for fn in _wrong_uniform() if fn.__name__ == "two_variances")
    inputs = glorot.checks_module._sample_inputs(250, 80, 0, "uniform", True)
    fraction, messages = _judged(glorot, "uniform", two_variances, inputs)
    text = _english(messages)
    assert fraction == 0.0 and "LeCun" not in text and "the variance matches" not in text, text
    inputs = glorot.checks_module._sample_inputs(100, 230, 3, "uniform")
    fraction, messages = _judged(glorot, "uniform", two_variances, inputs)
    text = _english(messages)
    assert fraction == 0.0 and "limit sqrt(2 Var)" in text and "LeCun" not in text, text


def test_false_failure_budget_matches_the_checks(glorot):
    """The documented budget holds for the checks as written: sample checks x 3 tests x
    DELTA stays below 1e-6, and every hidden sample check has at least 15,000 entries (the
    size the power of the tests was chosen for)."""
    judges = glorot.judges
    sample_checks = [c for c in glorot.checks if c.judge and c.judge.endswith("_sample")]
    assert len(sample_checks) == 4
    assert len(sample_checks) * 3 * judges.DELTA < 1e-6
    plan = make_plan(glorot, seed=12345)
    for planned in plan.checks:
        if planned.check in sample_checks:
            assert planned.inputs["n_in"] * planned.inputs["n_out"] >= 15000
            assert abs(planned.inputs["n_in"] - planned.inputs["n_out"]) >= 20


# ---------------------------------------------------------------------------- band judge

def _band_check(assignment):
    return next(c for c in assignment.checks if c.judge == "activation_band" and c.hidden)


def test_band_thresholds_have_a_margin(glorot):
    """On 60 random draws of the hidden band check, the reference stays far inside every
    threshold: Glorot's smallest layer variance >= 2x the floor and <= half the ceiling,
    N(0, 0.01^2) at least 1e6 below its ceiling, N(0, 1) at least 0.1 above its floor."""
    judges, check = glorot.judges, _band_check(glorot)
    probe = glorot.probes.activation_band
    reference = vars(glorot.reference)
    for seed in range(60):
        inputs = check.inputs(np.random.default_rng([99, seed]))
        out = probe(reference, **inputs)
        assert min(out["glorot"]) >= 2 * judges.GLOROT_FLOOR
        assert max(out["glorot"]) <= judges.GLOROT_CEILING / 1.4
        assert out["small"][-1] <= judges.SMALL_CEILING * 1e-6
        assert out["large"][-1] >= judges.LARGE_FLOOR + 0.1
        assert judges.activation_band(inputs, out, out) == (1.0, [])


def test_band_judge_rejects_wrong_networks(glorot):
    """The band judge rejects the known variants, a network that forgets tanh and one that
    returns a numpy array, naming what it can."""
    def no_tanh(init, n_layers, width, X, rng):
        A, out = np.asarray(X, float), []
        for _ in range(n_layers):
            A = init(A.shape[0], width, rng).T @ A
            out.append(float(np.var(A)))
        return out

    def as_array(init, n_layers, width, X, rng):
        return np.array(glorot.reference.activation_variances(init, n_layers, width, X, rng))

    wrong = {m.variant: "likely mistake" for m in glorot.mistakes
             if m.function == "activation_variances"}
    wrong.update({no_tanh: "values above 1", as_array: "should return a list"})
    inputs = _band_check(glorot).inputs(np.random.default_rng(5))
    for fn, words in wrong.items():
        out = glorot.probes.activation_band({"activation_variances": fn}, **inputs)
        fraction, messages = glorot.judges.activation_band(inputs, out, None)
        assert fraction == 0.0 and words in _english(messages), (fn.__name__, messages)
