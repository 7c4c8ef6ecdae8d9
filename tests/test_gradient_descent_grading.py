"""Grading the gradient_descent assignment: its known mistakes are named, its examples grade as
they should, the edge cases of the checks catch what they are for, and correct code written
differently from the reference keeps full marks."""

from assignment_grading import GradingTests, feedback, grade, named, notebook_with_code, \
    notebook_with_mistakes, question
from neurograde.spec import load_assignment


class TestGrading(GradingTests):
    slug = "gradient_descent"


# Correct, but unlike the reference: a growing list, eigvals of a symmetrized copy, a while
# loop, a mean over per-example gradients; trajectories must still match to rtol 1e-10.
ALTERNATIVE = {
    "q1": '''
def gradient_descent(grad_f, x0, lr, n_steps):
    if np.ndim(x0) != 1 or n_steps < 0:
        raise ValueError("x0 must be 1-D and n_steps >= 0")
    xs = [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * np.asarray(grad_f(xs[-1].copy())))
    return np.vstack(xs)
''',
    "q2": '''
def max_stable_lr(A):
    A = np.array(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("A must be square")
    if not np.allclose(A, A.T):
        raise ValueError("A must be symmetric")
    lam = np.linalg.eigvals((A + A.T) / 2).real
    if lam.min() <= 0:
        raise ValueError("A must be positive definite")
    return 2 / lam.max()
''',
    "q3": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    x, n = np.array(x0, dtype=float), 0
    while n <= max_steps:
        g = grad_f(x)
        norm = np.sqrt(np.sum(g * g))
        if norm < tol:
            return n
        if not np.isfinite(norm):
            return -1
        x, n = x - lr * g, n + 1
    return -1
''',
    "q4": '''
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    m, d = X.shape
    if y.shape != (m,) or np.shape(w0) != (d,) or batch_size < 1 or epochs < 0:
        raise ValueError("bad arguments")
    w = np.array(w0, dtype=float)
    history = [w.copy()]
    for _ in range(epochs):
        order = rng.permutation(m)
        for batch in np.array_split(order, np.arange(batch_size, m, batch_size)):
            residual = X[batch] @ w - y[batch]
            w = w - lr * np.mean(X[batch] * residual[:, None], axis=0)
            history.append(w.copy())
    return np.array(history)
''',
}


def test_correct_code_written_differently_gets_full_marks(tmp_path, box):
    """A correct solution sharing no code with the reference (np.vstack of a list,
    np.linalg.eigvals of a symmetrized copy, a while loop with a hand-written norm,
    np.array_split and a mean of per-example gradients) scores full marks."""
    assignment = load_assignment("gradient_descent")
    path = notebook_with_code(assignment, ALTERNATIVE, tmp_path / "alt.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["alt"]
    assert result.total == assignment.possible, feedback(result)


def test_edge_case_checks_catch_what_they_target(tmp_path, box):
    """A steps_to_converge that never looks at step max_steps itself loses exactly the check
    where the tolerance is first met there; a max_stable_lr that demands exact symmetry
    (np.array_equal) loses exactly the two checks with matrices symmetric up to rounding."""
    assignment = load_assignment("gradient_descent")
    sources = {
        "q2": ALTERNATIVE["q2"].replace("np.allclose(A, A.T)", "np.array_equal(A, A.T)"),
        "q3": ALTERNATIVE["q3"].replace("while n <= max_steps:", "while n < max_steps:"),
    }
    path = notebook_with_code(assignment, sources, tmp_path / "edges.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["edges"]
    failed = sorted(c.name for c in result.checks if c.status != "passed")
    assert failed == ["a 1 x 1 matrix, and large entries symmetric up to rounding",
                      "matrix symmetric up to rounding is accepted",
                      "tolerance first met exactly at max_steps"], feedback(result)
    assert result.total == assignment.possible - 0.75


def test_boundaries_the_checks_hold(tmp_path, box):
    """Each boundary a check was added for costs points when crossed: a gradient norm equal to
    tol counted as converged (<= instead of <), a threshold for symmetry that shrinks with the
    entries (1e-10 / max|A|), a singular matrix accepted (eigenvalue < 0 instead of <= 0), a
    1 x 1 matrix refused, and 0 epochs refused or batch_size 0 let through when no batch is
    taken."""
    assignment = load_assignment("gradient_descent")
    q2 = ALTERNATIVE["q2"]
    q4 = ALTERNATIVE["q4"]
    sources = {
        "lte-tol": {"q3": ALTERNATIVE["q3"].replace("if norm < tol:", "if norm <= tol:")},
        "shrinking-symmetry": {"q2": q2.replace("np.allclose(A, A.T)",
                                                "np.max(np.abs(A - A.T)) <= 1e-10 / "
                                                "np.max(np.abs(A))")},
        "singular-accepted": {"q2": q2.replace("lam.min() <= 0", "lam.min() < 0")},
        "one-by-one-refused": {"q2": q2.replace("A.shape[0] != A.shape[1]",
                                                "A.shape[0] != A.shape[1] or len(A) < 2")},
        "zero-epochs-refused": {"q4": q4.replace("epochs < 0", "epochs < 1")},
        "zero-batch-unchecked": {"q4": q4.replace("batch_size < 1 or ", "")},
    }
    paths = [notebook_with_code(assignment, code, tmp_path / f"{name}.ipynb")
             for name, code in sources.items()]
    results = grade(assignment, paths, tmp_path / "out")
    for name, code in sources.items():
        result = results[name]
        (qid,) = code
        lost = {q.id for q in result.questions if q.score < q.possible}
        assert lost == {qid}, (name, feedback(result))


# Correct mathematics without input validation: the issue found it told "The step adds
# lr * grad_f(x)" (q1), "The bound uses lambda_min" (q2), "visited in their original order"
# (q4), because the variants did not validate and the missing ValueError matched them.
LAX = {
    "q1": '''
def gradient_descent(grad_f, x0, lr, n_steps):
    xs = [np.asarray(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * np.asarray(grad_f(xs[-1]), dtype=float))
    return np.array(xs)
''',
    "q2": '''
def max_stable_lr(A):
    return 2.0 / np.linalg.eigvalsh(A)[-1]
''',
    "q4": '''
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    w = np.asarray(w0, dtype=float)
    path = [w]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            w = w - lr * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
            path.append(w)
    return np.array(path)
''',
}


def test_missing_validation_names_no_mistake(tmp_path, box):
    """Correct mathematics without validation loses only validation checks (at most 1 point
    in all) and is told none of the mathematical mistakes; with its validation, the same
    question's real mistake (gradient ascent, lambda_min, no shuffling) is still named."""
    assignment = load_assignment("gradient_descent")
    paths = [notebook_with_code(assignment, LAX, tmp_path / "lax.ipynb")]
    wrong = {m.id: m for m in assignment.mistakes}
    for mistake_id in ("gd-ascent", "lr-lambda-min", "sgd-no-shuffle"):
        qid = assignment.question_of(wrong[mistake_id].function).id
        paths.append(notebook_with_mistakes(assignment, {qid: wrong[mistake_id]},
                                            tmp_path / f"{mistake_id}.ipynb"))
    results = grade(assignment, paths, tmp_path / "out")
    lax = results["lax"]
    failed = [c for c in lax.checks if c.score < c.points]
    by_name = {c.name: c for c in assignment.checks}
    assert failed and all(by_name[c.name].validation for c in failed), [c.name for c in failed]
    assert lax.total >= assignment.possible - assignment.validation_points() - 1e-9
    assert not named(lax)
    text = feedback(lax)
    for words in ("climbs the function", "lambda_min", "original order", "likely mistake"):
        assert words not in text, (words, text)
    for mistake_id in ("gd-ascent", "lr-lambda-min", "sgd-no-shuffle"):
        assert named(results[mistake_id]) == {mistake_id}, feedback(results[mistake_id])


WRONG_Q1 = '''
def gradient_descent(grad_f, x0, lr, n_steps):
    path = [np.asarray(x0, dtype=float)]
    for _ in range(n_steps):
        path.append(path[-1] + lr * np.asarray(grad_f(path[-1]), dtype=float))
    return np.array(path)
'''
Q3_CALLING_Q1 = {
    "whole-run": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    path = gradient_descent(grad_f, x0, lr, max_steps)
    for n, x in enumerate(path):
        if np.linalg.norm(grad_f(x)) < tol:
            return n
    return -1
''',
    "step-by-step": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    x = np.asarray(x0, dtype=float)
    for n in range(max_steps + 1):
        g = grad_f(x)
        if np.linalg.norm(g) < tol:
            return n
        if not np.all(np.isfinite(g)):
            return -1
        x = gradient_descent(grad_f, x, lr, 1)[-1]
    return -1
''',
}


def test_a_wrong_gradient_descent_costs_question_1_only(tmp_path, box):
    """A steps_to_converge that runs the student's gradient_descent (the whole run at once, or
    one step at a time) keeps full marks on question 3 when that gradient_descent climbs
    instead of descending: the q3 probes let the run's trajectory stand in for it. The
    mistake is named on question 1, the only question that loses points."""
    assignment = load_assignment("gradient_descent")
    paths = [notebook_with_code(assignment, {"q1": WRONG_Q1, "q3": code},
                                tmp_path / f"{name}.ipynb")
             for name, code in Q3_CALLING_Q1.items()]
    results = grade(assignment, paths, tmp_path / "out")
    for name, result in results.items():
        lost = {q.id for q in result.questions if q.score < q.possible}
        assert lost == {"q1"}, (name, feedback(result))
        assert question(result, "q3").score == question(result, "q3").possible
        assert named(result) == {"gd-ascent"}, (name, feedback(result))
