"""Grading the gradient_descent assignment: its known mistakes are named, its examples grade as
they should, the edge cases of the checks catch what they are for, and correct code written
differently from the reference keeps full marks."""

from assignment_grading import GradingTests, feedback, grade, notebook_with_code
from autograder.spec import load_assignment


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
    (np.array_equal) loses exactly the check with a matrix symmetric up to rounding."""
    assignment = load_assignment("gradient_descent")
    sources = {
        "q2": ALTERNATIVE["q2"].replace("np.allclose(A, A.T)", "np.array_equal(A, A.T)"),
        "q3": ALTERNATIVE["q3"].replace("while n <= max_steps:", "while n < max_steps:"),
    }
    path = notebook_with_code(assignment, sources, tmp_path / "edges.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["edges"]
    failed = sorted(c.name for c in result.checks if c.status != "passed")
    assert failed == ["matrix symmetric up to rounding is accepted",
                      "tolerance first met exactly at max_steps"], feedback(result)
    assert result.total == assignment.possible - 0.5
