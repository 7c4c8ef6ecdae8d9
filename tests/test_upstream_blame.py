"""A later question's check that fails because it calls an earlier question's wrong function
says so, in the student's language; a later question that calls nothing wrong is not told."""

from assignment_grading import notebook_with_code
from autograder.batch import BatchOptions, grade_batch
from autograder.i18n import say_in
from autograder.spec import load_assignment

WRONG_TANH = '''
import numpy as np

def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)

def tanh_derivative(z):
    return 1 - np.tanh(z)          # should be 1 - tanh(z)**2
'''


BACKWARD_USING_Q1 = '''
import numpy as np

def backward(X, Y, params, cache):
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dW2 = cache["A1"] @ dZ2.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = (params["W2"] @ dZ2) * tanh_derivative(cache["Z1"])
    return {"dW1": X @ dZ1.T / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m,
            "dW2": dW2, "db2": db2}
'''


def _graded(tmp_path, code: dict, lang=None):
    assignment = load_assignment("backprop")
    path = notebook_with_code(assignment, code, tmp_path / "subs" / "s.ipynb")
    summary = grade_batch(assignment, [path.parent], tmp_path / "out",
                          BatchOptions(jobs=1, quiet=True, lang=lang, self_check=False, reports=False))
    return assignment, summary.results[0]


def test_backward_is_told_that_q1_is_the_cause(tmp_path):
    """Does a right backward that calls a wrong tanh_derivative from q1 get a note naming
    tanh_derivative and q1 on its failed checks (English lines and the es wording), while
    q1's own checks carry no such note?"""
    assignment, result = _graded(tmp_path, {"q1": WRONG_TANH, "q3": BACKWARD_USING_Q1})
    later = [c for c in result.checks if c.question == "q3" and c.score < c.points]
    assert later, "backward must fail when tanh_derivative is wrong"
    for check in later:
        text = "\n".join(check.feedback)
        assert "calls tanh_derivative from q1" in text, text
        notes = [m for m in check.messages if m.get("m") == "upstream"]
        assert "tanh_derivative de q1" in say_in("es", notes[0], assignment)
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
