"""Grading of perceptron submissions: the course's exercise has an answer (f2), the sign(0) = +1
convention is what q1 teaches (np.sign is a named mistake), every known mistake can be told
apart and is named alone, and q3 is graded on its own (a wrong predict or accuracy, which
better_model calls, costs only q1's or q2's points)."""

import numpy as np
import pytest

from assignment_grading import (EXTRA_SEEDS, MistakeAloneGradingTests, feedback, grade, named,
                                notebook_with_code, question)
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.release import build_notebook
from neurograde.spec import load_assignment

SLUG = "perceptron"
NP_SIGN = "import numpy as np\n\n\ndef predict(X, w, b):\n    return np.sign(X @ w + b)\n"


@pytest.fixture(scope="module")
def perceptron():
    return load_assignment(SLUG)


def test_every_mistake_differs_from_the_reference_on_some_check(perceptron):
    """For the assignment's seed (the release's and the grader's) and ten others, each known
    mistake (np.sign included) differs from the reference on some check of its question, so
    it can be named."""
    for seed in (None, *EXTRA_SEEDS):
        variants = expectations(make_plan(perceptron, seed)).variants
        caught = {m.id for found in variants.values() for m, _ in found}
        missed = [m.id for m in perceptron.mistakes if m.id not in caught]
        assert not missed, f"seed {seed}: no check tells these mistakes apart: {missed}"
    assert "predict-np-sign" in {m.id for m in perceptron.mistakes}


def _setup_namespace(perceptron, lang="en"):
    setup = next(c.source for c in build_notebook(perceptron, lang).cells
                 if c.metadata.get("neurograde", {}).get("role") == "setup")
    namespace = {}
    exec(compile(setup, "setup", "exec"), namespace)
    return namespace


def test_the_exercise_has_an_answer_f2(perceptron):
    """On the exercise's data as the released notebook defines it, the reference's
    better_model names f2 (not a tie): f2 is right on strictly more points than f1."""
    ns = _setup_namespace(perceptron)
    ref = perceptron.reference
    X, y, models = ns["X_test"], ns["y_test"], ns["models"]
    accuracies = {name: ref.accuracy(y, ref.predict(X, w, b)) for name, (w, b) in models.items()}
    assert accuracies["f2"] > accuracies["f1"], accuracies
    assert ref.better_model(X, y, models) == "f2"


def test_the_texts_boundary_example_is_on_the_boundary(perceptron):
    """The q1 text's example (w = (1, 1), b = -4, the point (2.5, 1.5)) is really on the
    boundary: the reference labels it +1 while np.sign gives 0, and every language states it."""
    X, w = np.array([[2.5, 1.5]]), np.array([1.0, 1.0])
    assert perceptron.reference.predict(X, w, -4.0).tolist() == [1]
    assert np.sign(X @ w - 4.0).tolist() == [0.0]
    for lang in ("en", "es", "pt"):
        q1 = next(c.source for c in build_notebook(perceptron, lang).cells
                  if c.cell_type == "markdown"
                  and c.metadata.get("neurograde", {}).get("question") == "q1")
        assert "(2.5, 1.5)" in q1 and "w = (1, 1)" in q1 and "b = -4" in q1, lang
        assert "np.sign" in q1, lang


def test_np_sign_in_predict_loses_points_on_q1_and_is_named(perceptron, tmp_path, box):
    """A predict written with np.sign (0 on the boundary) loses points on q1 only, fails the
    public boundary example, and its feedback names the mistake, whose message exists in
    every language."""
    path = notebook_with_code(perceptron, {"q1": NP_SIGN}, tmp_path / "subs" / "sign.ipynb")
    result = grade(perceptron, [path], tmp_path / "out")["sign"]
    assert result.status == "ok", result.message
    q1 = question(result, "q1")
    assert 0 < q1.score < q1.possible
    assert all(q.score == q.possible for q in result.questions if q.id != "q1")
    failed = [c for c in result.checks if c.question == "q1" and c.score < c.points]
    assert any(not c.hidden for c in failed), [c.name for c in failed]
    assert "predict-np-sign" in named(result)
    mistake = next(m for m in perceptron.mistakes if m.id == "predict-np-sign")
    assert mistake.text("en") in feedback(result)
    assert set(mistake.message) == {"en", "es", "pt"}
    assert all("np.sign" in text for text in mistake.message.values())


class TestGrading(MistakeAloneGradingTests):
    slug = SLUG


WRONG_EARLIER = {
    "q1": "import numpy as np\n\n\ndef predict(X, w, b):\n"
          "    return np.where(X @ w + b >= 0, 1, 0)\n",
    "q2": "import numpy as np\n\n\ndef accuracy(y_true, y_pred):\n"
          "    if len(y_true) != len(y_pred) or len(y_true) == 0:\n"
          "        raise ValueError('lengths')\n"
          "    return float(np.sum(np.asarray(y_true) != np.asarray(y_pred)))\n",
}


def test_a_wrong_predict_and_accuracy_do_not_cost_q3(perceptron, tmp_path, box):
    """The reference's better_model calls the notebook's predict and accuracy; with both
    wrong (1/0 labels, a count of errors), q1 and q2 lose points while q3 keeps full marks:
    its probes stand in the right values for the check's models (Names.standing_in)."""
    path = notebook_with_code(perceptron, WRONG_EARLIER, tmp_path / "subs" / "early.ipynb")
    result = grade(perceptron, [path], tmp_path / "out")["early"]
    assert result.status == "ok", result.message
    assert question(result, "q1").score < question(result, "q1").possible
    assert question(result, "q2").score < question(result, "q2").possible
    q3 = question(result, "q3")
    assert q3.score == q3.possible, q3.feedback
    assert question(result, "q4").score == question(result, "q4").possible
