"""Grading the gan assignment: its known mistakes are named, its examples grade as they should,
its property judges (D* maximizes V, V(D*) = -2 log 2 + 2 JSD) judge each question's own
function against the course's values, and a mistake costs points in its own question only.
Correct code written differently from the reference: tests/alternatives/gan.py, graded by
tests/test_diagnoses.py."""

from assignment_grading import GradingTests, feedback, grade, named, notebook_with_code
from neurograde import checklib
from neurograde.probe import make_plan
from neurograde.spec import load_assignment


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
    rescales V by 1/ln 10: its V is still largest at D*, yet d_star_maximizes fails it, since
    it compares the student's values with the course's (in nats), not only with each other;
    a JSD in log10 or in bits fails optimum_identity. Each judges its own question's function
    only: an inverted optimal_discriminator (q1) and a log10 gan_value (q2) pass the q3
    identity, and the inverted D* passes the q2 maximum (D* is given there)."""
    assignment = load_assignment("gan")
    reference = vars(assignment.reference)
    variants = {m.id: m.variant for m in assignment.mistakes}
    for seed in range(5):
        for judge in ("d_star_maximizes", "optimum_identity"):
            assert _judged(assignment, judge, reference, seed) == (1.0, [])
        log10 = {**reference, "gan_value": variants["value-log10"]}
        fraction, messages = _judged(assignment, "d_star_maximizes", log10, seed)
        assert fraction == 0.0 and messages
        assert _judged(assignment, "optimum_identity", log10, seed) == (1.0, [])
        for jsd in ("jsd-log10", "jsd-bits"):
            wrong = {**reference, "jensen_shannon": variants[jsd]}
            fraction, messages = _judged(assignment, "optimum_identity", wrong, seed)
            assert fraction == 0.0 and messages
        inverted = {**reference, "optimal_discriminator": variants["dstar-inverted"]}
        for judge in ("d_star_maximizes", "optimum_identity"):
            assert _judged(assignment, judge, inverted, seed) == (1.0, [])


# A student's own wording of the issue's cases (not the variants' code): a JSD with log10 and
# the mixture used correctly; a gan_value through np.trapezoid, whose result is an np.float64
# (-inf included); and a wrong optimal_discriminator (inverted) next to right q2 and q3.
STUDENT_LOG10_JSD = {
    "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0")
    m = (pr + pg) / 2
    kl_r = np.where(pr > 0, pr * np.log10(np.where(pr > 0, pr, 1) / np.where(m > 0, m, 1)), 0)
    kl_g = np.where(pg > 0, pg * np.log10(np.where(pg > 0, pg, 1) / np.where(m > 0, m, 1)), 0)
    return float(np.trapezoid(0.5 * (kl_r + kl_g), xs))
''',
}

STUDENT_INVERTED_DSTAR_NUMPY_VALUE = {
    "q1": '''
def optimal_discriminator(pr_x, pg_x):
    pr, pg = np.asarray(pr_x, dtype=float), np.asarray(pg_x, dtype=float)
    if pr.shape != pg.shape or (pr < 0).any() or (pg < 0).any():
        raise ValueError("densities must be >= 0 and of one shape")
    return np.divide(pg, pr + pg, out=np.full(pr.shape, 0.5), where=(pr + pg) > 0)
''',
    "q2": '''
def gan_value(d_x, pr_x, pg_x, xs):
    d, pr, pg, xs = (np.asarray(v, dtype=float) for v in (d_x, pr_x, pg_x, xs))
    if xs.ndim != 1 or len(xs) < 2 or not (d.shape == pr.shape == pg.shape == xs.shape):
        raise ValueError("need 1-D arrays of one length >= 2")
    if (pr < 0).any() or (pg < 0).any() or (d < 0).any() or (d > 1).any():
        raise ValueError("densities must be >= 0 and d in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(pr > 0, pr * np.log(d), 0.0) + np.where(pg > 0, pg * np.log1p(-d), 0.0)
    return np.trapezoid(f, xs)
''',
}


def test_each_question_on_its_own_and_the_log10_jsd_named(tmp_path, box):
    """Graded for real: a JSD computed with log10 (the mixture used correctly) is told it uses
    log10, not that it "compares p_r and p_g directly", and loses points in q3 only; an
    inverted optimal_discriminator loses points in q1 only (q2's maximum and q3's identity
    use the grader's D* and V(D*)), and a gan_value returning np.float64 (-inf on the check
    that asks for it) keeps all of q2."""
    assignment = load_assignment("gan")
    paths = [notebook_with_code(assignment, STUDENT_LOG10_JSD, tmp_path / "subs" / "log10.ipynb"),
             notebook_with_code(assignment, STUDENT_INVERTED_DSTAR_NUMPY_VALUE,
                                tmp_path / "subs" / "inverted.ipynb")]
    results = grade(assignment, paths, tmp_path / "out")
    log10 = results["log10"]
    assert {q.id for q in log10.questions if q.score < q.possible} == {"q3"}, feedback(log10)
    assert named(log10) == {"jsd-log10"}, feedback(log10)
    inverted = results["inverted"]
    assert {q.id for q in inverted.questions if q.score < q.possible} == {"q1"}, \
        feedback(inverted)
    assert named(inverted) == {"dstar-inverted"}, feedback(inverted)
