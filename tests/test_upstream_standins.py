"""A later question graded with stand-ins for an earlier question's functions (the probe's
Names.standing_in) did not use the student's versions of them, so when it fails it is not
told that an earlier wrong function is the cause (issue 12: the note would mislead)."""

from assignment_grading import notebook_with_code
from neurograde.batch import BatchOptions, grade_batch
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.spec import load_assignment

WRONG_TANH_DERIVATIVE = '''
import numpy as np

def sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))

def sigmoid_derivative(z):
    s = sigmoid(z)
    return s * (1 - s)

def tanh_derivative(z):
    return 1 + np.tanh(z) ** 2     # should be 1 - tanh(z)^2
'''

# Uses tanh_derivative from q1 and forgets the 1/m of every gradient: wrong on its own.
BACKWARD_WITHOUT_MEAN = '''
import numpy as np

def backward(X, Y, params, cache):
    dZ2 = cache["A2"] - Y
    dW2 = cache["A1"] @ dZ2.T
    db2 = np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = (params["W2"] @ dZ2) * tanh_derivative(cache["Z1"])
    dW1 = X @ dZ1.T
    db1 = np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
'''


def test_stand_ins_are_recorded_per_check():
    """The grader knows, per check, which names its probe stood in for (recorded while the
    expected values are computed on the reference)."""
    exp = expectations(make_plan(load_assignment("backprop"), None))
    q3 = {name for check_id, names in exp.standins.items() if check_id.startswith("q3.")
          for name in names}
    assert "tanh_derivative" in q3
    assert not any(exp.standins[c] for c in exp.standins if c.startswith("q1."))


def test_no_upstream_note_for_a_function_that_stood_in(tmp_path):
    """A wrong backward calling a wrong tanh_derivative from q1 fails q3 for its own mistake
    and q1 for its own; since q3's checks stood a right tanh_derivative in, q3 is not told
    that q1 is the cause."""
    assignment = load_assignment("backprop")
    path = notebook_with_code(assignment, {"q1": WRONG_TANH_DERIVATIVE,
                                           "q3": BACKWARD_WITHOUT_MEAN},
                              tmp_path / "subs" / "s.ipynb")
    result = grade_batch(assignment, [path.parent], tmp_path / "out",
                         BatchOptions(jobs=1, quiet=True, self_check=False,
                                      reports=False)).results[0]
    q1 = [c for c in result.checks if c.question == "q1" and c.score < c.points]
    q3 = [c for c in result.checks if c.question == "q3" and c.score < c.points]
    assert q1 and q3, "both functions are wrong"
    assert not any(m.get("m") == "upstream" for c in q3 for m in c.messages), \
        [c.feedback for c in q3]
