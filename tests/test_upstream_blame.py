"""A later question's check that fails because it calls an earlier question's wrong function
says so, in the student's language; a later question that calls nothing wrong is not told."""

from assignment_grading import notebook_with_code
from neurograde.batch import BatchOptions, grade_batch
from neurograde.i18n import say_in
from neurograde.spec import load_assignment

WRONG_SIGMOID = '''
import numpy as np

def sigmoid(z):
    return 1 / (1 + np.exp(np.clip(z, -500, 500)))     # should be exp(-z)

def sigmoid_derivative(z):
    s = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    return s * (1 - s)

def tanh_derivative(z):
    return 1 - np.tanh(z) ** 2
'''


# forward's A2 is sigmoid(Z2): its checks cannot stand a right sigmoid in (that would hand
# the sandbox the expected output), so a wrong sigmoid fails them and the note says why.
# (backward's checks stand in question 1's functions: a wrong one costs nothing there.)
FORWARD_USING_Q1 = '''
import numpy as np

def forward(X, params):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}

def compute_cost(A2, Y):
    if np.shape(A2) != np.shape(Y):
        raise ValueError("A2 and Y differ in shape")
    A = np.clip(A2, 1e-12, 1 - 1e-12)
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
'''


def _graded(tmp_path, code: dict, lang=None):
    assignment = load_assignment("backprop")
    path = notebook_with_code(assignment, code, tmp_path / "subs" / "s.ipynb")
    summary = grade_batch(assignment, [path.parent], tmp_path / "out",
                          BatchOptions(jobs=1, quiet=True, lang=lang, self_check=False, reports=False))
    return assignment, summary.results[0]


def test_forward_is_told_that_q1_is_the_cause(tmp_path):
    """Does a right forward that calls a wrong sigmoid from q1 get a note naming sigmoid and
    q1 on its failed checks (English lines and the es wording), while q1's own checks carry
    no such note?"""
    assignment, result = _graded(tmp_path, {"q1": WRONG_SIGMOID, "q2": FORWARD_USING_Q1})
    later = [c for c in result.checks if c.question == "q2" and c.score < c.points]
    assert later, "forward must fail when sigmoid is wrong"
    for check in later:
        text = "\n".join(check.feedback)
        assert "calls sigmoid from q1" in text, text
        notes = [m for m in check.messages if m.get("m") == "upstream"]
        assert "sigmoid de q1" in say_in("es", notes[0], assignment)
    own = [c for c in result.checks if c.question == "q1"]
    assert not any("calls" in line for c in own for line in c.feedback)


ZERO_BACKWARD = '''
import numpy as np

def backward(X, Y, params, cache):
    return {name: np.zeros_like(params[name.replace("d", "", 1)])
            for name in ("dW1", "db1", "dW2", "db2")}
'''


def test_no_note_when_earlier_questions_pass(tmp_path):
    """Does a wrong backward, with q1 and q2 right, fail without any note blaming them?"""
    _, result = _graded(tmp_path, {"q3": ZERO_BACKWARD})
    failed = [c for c in result.checks if c.question == "q3" and c.score < c.points]
    assert failed, "a backward returning zeros must fail"
    assert not any(m.get("m") == "upstream" for c in result.checks for m in c.messages)
