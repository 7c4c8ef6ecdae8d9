"""Grading the backprop assignment: its known mistakes are named, its examples grade as they
should, its gradient check judges the student's own functions, and correct code written
differently from the reference keeps full marks."""

import numpy as np

from assignment_grading import (GradingTests, feedback, grade, named, notebook_with_code,
                                question)
from autograder import checklib
from autograder.probe import make_plan
from autograder.spec import load_assignment


class TestGrading(GradingTests):
    slug = "backprop"


def _gradient_check_outputs(assignment, namespace, seed):
    plan = make_plan(assignment, seed)
    planned = next(p for p in plan.checks if p.check.judge == "gradient_check")
    raw = assignment.probes.gradient_check(checklib.Names(namespace), **planned.inputs)
    return planned.inputs, checklib.normalize(raw)


def test_gradient_check_judge_accepts_the_reference_and_rejects_wrong_backwards():
    """The gradient-check judge gives the reference full points for several seeds and
    fails every known wrong backward on at least one parameter (threshold: relative error
    1e-6 against central differences with eps = 1e-5)."""
    assignment = load_assignment("backprop")
    reference = vars(assignment.reference)
    for seed in range(5):
        inputs, outputs = _gradient_check_outputs(assignment, reference, seed)
        assert assignment.judges.gradient_check(inputs, outputs, outputs) == (1.0, [])
        for mistake in assignment.mistakes:
            if mistake.function != "backward":
                continue
            _, wrong = _gradient_check_outputs(assignment,
                                               {**reference, "backward": mistake.variant}, seed)
            fraction, messages = assignment.judges.gradient_check(inputs, wrong, outputs)
            assert fraction < 1.0 and messages, mistake.id


# Correct, but written unlike the reference: naive-but-safe sigmoid, np.mean, einsum,
# np.nditer, and a while loop; the tolerances must not punish any of it.
ALTERNATIVE = {
    "q1": '''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    out[~pos] = np.exp(z[~pos]) / (1 + np.exp(z[~pos]))
    return out


def sigmoid_derivative(z):
    e = np.exp(-np.abs(np.asarray(z, dtype=float)))
    return e / (1 + e) ** 2


def tanh_derivative(z):
    return 1 / np.cosh(np.asarray(z, dtype=float)) ** 2
''',
    "q2": '''
def forward(X, params):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = np.dot(W1.T, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2.T, A1) + b2
    A2 = 0.5 * (1 + np.tanh(Z2 / 2))
    return A2, dict(Z1=Z1, A1=A1, Z2=Z2, A2=A2)


def compute_cost(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y must have the same shape")
    p = np.clip(A2, 1e-12, 1 - 1e-12)
    return float(np.mean(-(Y * np.log(p) + (1 - Y) * np.log(1 - p))))
''',
    "q3": '''
def backward(X, Y, params, cache):
    m = Y.shape[1]
    delta2 = (cache["A2"] - Y) / m
    delta1 = np.einsum("hk,km->hm", params["W2"], delta2) * (1 - np.tanh(cache["Z1"]) ** 2)
    return {"dW1": np.einsum("im,hm->ih", X, delta1), "db1": delta1.sum(1, keepdims=True),
            "dW2": np.einsum("hm,km->hk", cache["A1"], delta2),
            "db2": delta2.sum(1, keepdims=True)}
''',
    "q4": '''
def numerical_gradient(f, x, eps=1e-5):
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        raise TypeError("x must be a float array")
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        keep = x[i]
        try:
            x[i] = keep + eps
            up = f()
            x[i] = keep - eps
            down = f()
        finally:
            x[i] = keep
        g[i] = (up - down) / eps / 2
        it.iternext()
    return g
''',
    "q5": '''
def update_parameters(params, grads, lr):
    new = {}
    for name, value in params.items():
        new[name] = value.copy()
        new[name] -= lr * grads["d" + name]
    return new
''',
}


def test_correct_code_written_differently_gets_full_marks(tmp_path, box):
    """A correct solution that shares no code with the reference (other formulas for the
    activations and their derivatives, np.mean, einsum, np.nditer) scores full marks: the
    rtol 1e-6 comparisons and the gradient check leave room for honest rounding."""
    assignment = load_assignment("backprop")
    path = notebook_with_code(assignment, ALTERNATIVE, tmp_path / "alt.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["alt"]
    assert result.total == assignment.possible, feedback(result)


def test_gradient_check_uses_the_students_own_cost(tmp_path, box):
    """A summed cost (no 1/m) with a backward that is its exact gradient (no 1/m either)
    passes the hidden gradient check, which compares the student's backward with the
    student's own cost, while both functions lose the reference comparisons and are named:
    cost-no-mean and backward-no-mean."""
    assignment = load_assignment("backprop")
    mistakes = {m.id: m for m in assignment.mistakes}
    sources = {
        "q2": ALTERNATIVE["q2"].replace("float(np.mean(", "float(np.sum("),
        "q3": ALTERNATIVE["q3"].replace("m = Y.shape[1]", "m = 1"),
    }
    path = notebook_with_code(assignment, sources, tmp_path / "sum.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["sum"]
    by_name = {c.name: c for c in result.checks}
    assert by_name["your backward against central differences of your own cost"].status \
        == "passed"
    assert {"cost-no-mean", "backward-no-mean"} <= named(result)
    text = feedback(result)
    for mistake_id in ("cost-no-mean", "backward-no-mean"):
        assert mistakes[mistake_id].text("en") in text


def test_mutating_update_and_unguarded_restore_lose_their_checks(tmp_path, box):
    """update_parameters that subtracts in place (params changed) gets 0 for question 5, with
    feedback on params_after_call (the dict passed in, as the parent got it back);
    numerical_gradient without try/finally loses only the check
    where f raises (x left perturbed), keeping 1.75 of question 4's 2 points."""
    assignment = load_assignment("backprop")
    sources = {
        "q4": ALTERNATIVE["q4"].replace("        try:\n", "        if True:\n")
                               .replace("        finally:\n", "        if True:\n"),
        "q5": '''
def update_parameters(params, grads, lr):
    for name in ("W1", "b1", "W2", "b2"):
        params[name] -= lr * grads["d" + name]
    return params
''',
    }
    path = notebook_with_code(assignment, sources, tmp_path / "inplace.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["inplace"]
    q4, q5 = question(result, "q4"), question(result, "q5")
    assert q5.score == 0 and "params_after_call" in "\n".join(q5.feedback)
    assert q4.score == 1.75
    failed = [c.name for c in result.checks if c.question == "q4" and c.status != "passed"]
    assert failed == ["x restored although f raised"]
    assert np.isclose(result.total, assignment.possible - 1.25)
