"""Grading the backprop assignment: its known mistakes are named, its examples grade as they
should, its gradient check compares backward with central differences of the course's cost,
and question 3 is graded on its own (wrong functions of questions 1 and 2 that backward calls
cost nothing there)."""

import numpy as np

from assignment_grading import (GradingTests, feedback, grade, named, notebook_with_code,
                                question)
from test_diagnoses import alternatives
from neurograde import checklib
from neurograde.probe import make_plan
from neurograde.spec import load_assignment


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
    1e-6 against the course's central differences with eps = 1e-5, a judge-only input)."""
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


# Correct, but written unlike the reference (naive-but-safe sigmoid, np.mean, einsum,
# np.nditer, a while loop): tests/test_diagnoses.py grades it with the other alternatives.
ALTERNATIVE = alternatives("backprop").SOLUTIONS["einsum"]

# Questions 1 and 2 wrong: tanh_derivative without the square, sigmoid and forward that
# saturate at 0.5, a summed cost.
WRONG_EARLIER = {
    "q1": '''
import numpy as np


def sigmoid(z):
    return np.minimum(0.5, 1 / (1 + np.exp(-np.asarray(z, dtype=float))))


def sigmoid_derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))


def tanh_derivative(z):
    return 1 - np.tanh(z)
''',
    "q2": '''
import numpy as np


def forward(X, params):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("shapes differ")
    A = np.clip(A2, 1e-12, 1 - 1e-12)
    return float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
''',
}

# A right backward that leans on questions 1 and 2: it recomputes the cache with forward and
# takes the derivatives from sigmoid, sigmoid_derivative and tanh_derivative.
BACKWARD_USING_EARLIER = '''
import numpy as np


def backward(X, Y, params, cache):
    m = X.shape[1]
    _, cache = forward(X, params)
    dA2 = (sigmoid(cache["Z2"]) - Y) / (cache["A2"] * (1 - cache["A2"]))
    dZ2 = dA2 * sigmoid_derivative(cache["Z2"])
    dZ1 = (params["W2"] @ dZ2) * tanh_derivative(cache["Z1"])
    return {"dW1": X @ dZ1.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m,
            "dW2": cache["A1"] @ dZ2.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m}
'''


def test_q3_is_graded_on_its_own(tmp_path, box):
    """A right backward that calls wrong functions of questions 1 and 2 (forward, sigmoid,
    sigmoid_derivative, tanh_derivative) keeps full marks on q3, gradient check included:
    its probes stand in the course's values for the check's network, while q1 and q2 lose
    their points; the same backward with right earlier functions gets full marks too."""
    assignment = load_assignment("backprop")
    wrong = notebook_with_code(assignment, {**WRONG_EARLIER, "q3": BACKWARD_USING_EARLIER},
                               tmp_path / "subs" / "wrong.ipynb")
    right = notebook_with_code(assignment, {"q3": BACKWARD_USING_EARLIER},
                               tmp_path / "subs" / "right.ipynb")
    results = grade(assignment, [wrong, right], tmp_path / "out")
    result = results["wrong"]
    assert result.status == "ok", result.message
    for qid in ("q1", "q2"):
        assert question(result, qid).score < question(result, qid).possible, qid
    q3 = question(result, "q3")
    assert q3.score == q3.possible, q3.feedback
    assert not any(m.get("m") == "upstream" for c in result.checks if c.question == "q3"
                   for m in c.messages)
    assert results["right"].total == assignment.possible, feedback(results["right"])


def test_gradient_check_compares_with_the_courses_cost(tmp_path, box):
    """A summed cost (no 1/m) with a backward that is its exact gradient (no 1/m either):
    both lose their reference comparisons and are named (cost-no-mean, backward-no-mean),
    and the gradient check fails too: it compares backward with central differences of the
    course's cost, not of the student's own."""
    assignment = load_assignment("backprop")
    mistakes = {m.id: m for m in assignment.mistakes}
    sources = {
        "q2": ALTERNATIVE["q2"].replace("float(np.mean(", "float(np.sum("),
        "q3": ALTERNATIVE["q3"].replace("m = Y.shape[1]", "m = 1"),
    }
    path = notebook_with_code(assignment, sources, tmp_path / "sum.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["sum"]
    by_name = {c.name: c for c in result.checks}
    assert by_name["your backward against central differences of the cost"].score == 0
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
