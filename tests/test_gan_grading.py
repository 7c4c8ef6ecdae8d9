"""Grading the gan assignment: its known mistakes are named, its examples grade as they should,
its property judges (D* maximizes V, V(D*) = -2 log 2 + 2 JSD) judge the student's own
functions against the course's values, and correct code written differently from the
reference keeps full marks."""

from assignment_grading import GradingTests, feedback, grade, notebook_with_code
from autograder import checklib
from autograder.probe import make_plan
from autograder.spec import load_assignment


class TestGrading(GradingTests):
    slug = "gan"


def _judged(assignment, judge_name, namespace, seed):
    plan = make_plan(assignment, seed)
    planned = next(p for p in plan.checks if p.check.judge == judge_name)
    probe = getattr(assignment.probes, planned.check.probe)
    outputs = checklib.normalize(probe(checklib.Names(namespace), **planned.inputs))
    expected = checklib.normalize(probe(checklib.Names(vars(assignment.reference)),
                                        **planned.inputs))
    return getattr(assignment.judges, judge_name)(planned.inputs, outputs, expected)


def test_property_judges_on_the_reference_and_the_seed_log10():
    """Both judges accept the reference for several seeds. The seed's log10 value only
    rescales V by 1/ln 10: its D* still beats every perturbation, yet both judges fail it,
    since they compare the student's values with the course's (in nats), not only with each
    other; an inverted D* fails both too."""
    assignment = load_assignment("gan")
    reference = vars(assignment.reference)
    variants = {m.id: m.variant for m in assignment.mistakes}
    for seed in range(5):
        for judge in ("d_star_maximizes", "optimum_identity"):
            assert _judged(assignment, judge, reference, seed) == (1.0, [])
        log10 = {**reference, "gan_value": variants["value-log10"]}
        for judge in ("d_star_maximizes", "optimum_identity"):
            fraction, messages = _judged(assignment, judge, log10, seed)
            assert fraction == 0.0 and messages
        inverted = {**reference, "optimal_discriminator": variants["dstar-inverted"]}
        for judge in ("d_star_maximizes", "optimum_identity"):
            fraction, messages = _judged(assignment, judge, inverted, seed)
            assert fraction == 0.0 and messages


# Correct, but unlike the reference: np.divide with where=, scipy-free xlogy by masking,
# np.trapezoid for the integrals.
ALTERNATIVE = {
    "q1": '''
def optimal_discriminator(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape or (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0 and of one shape")
    return np.divide(pr, pr + pg, out=np.full(pr.shape, 0.5), where=(pr + pg) > 0)
''',
    "q2": '''
def _xlog(a, b):
    out = np.zeros_like(a)
    mask = a > 0
    with np.errstate(divide="ignore"):
        out[mask] = a[mask] * np.log(b[mask])
    return out


def gan_value(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(v, dtype=float) for v in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (d.shape == pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any() or (d < 0).any() or (d > 1).any():
        raise ValueError("densities must be >= 0 and d in [0, 1]")
    return float(np.trapezoid(_xlog(pr, d) + _xlog(pg, 1 - d), xs))
''',
    "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0")
    m = 0.5 * (pr + pg)

    def kl_to_m(p):
        terms = np.zeros_like(p)
        terms[p > 0] = p[p > 0] * (np.log(p[p > 0]) - np.log(m[p > 0]))
        return np.trapezoid(terms, xs)
    return float(0.5 * kl_to_m(pr) + 0.5 * kl_to_m(pg))
''',
}


def test_correct_code_written_differently_gets_full_marks(tmp_path, box):
    """A correct solution sharing no code with the reference (np.divide with where=, masked
    logarithms, log p - log m, np.trapezoid) scores full marks, property judges included."""
    assignment = load_assignment("gan")
    path = notebook_with_code(assignment, ALTERNATIVE, tmp_path / "alt.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["alt"]
    assert result.total == assignment.possible, feedback(result)
