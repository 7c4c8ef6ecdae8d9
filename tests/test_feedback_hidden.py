"""Feedback never carries hidden information (issue 9): hidden checks say what kind of thing is
wrong without numbers from the expected value, the error or the tolerance; property judges'
messages pass a guard; cell errors and printed output are capped."""

from __future__ import annotations

import csv
import inspect
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assignment_grading import notebook_with_code
from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.checklib import EXACT, Opaque, Raised, Tol, problems
from neurograde.feedback import (HIDDEN_JUDGE_MESSAGE, cap_head, cap_tail,
                                 guard_judge_messages, judge_message_leaks)
from neurograde.i18n import say_in
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.spec import load_assignment
from conftest import notebook_with

# ---------------------------------------------------------------------------- unit level


def _hidden(actual, expected, tol=EXACT):
    return [say_in('en', p.render(True)) for p in problems(actual, expected, tol)]


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+|\d+e[-+]?\d+", text)


def test_hidden_wording_names_the_kind_without_numbers():
    """Does each kind of wrong array get its own hidden wording (sign, transposed, offset,
    scale, wrong values at an index, NaN, shape, dtype) with no decimal number in it, while
    the public wording keeps the measured error and the tolerance?"""
    e = np.array([[0.3817, -1.25, 2.5], [0.75, 3.125, -0.0625], [1.5, 0.9375, 4.0]])
    tol = Tol(atol=1e-6, rtol=1e-6)
    cases = {
        "negative of the right result": -e,
        "transposed": e.T,
        "same constant in every entry": e + 0.1234,
        "constant factor": 2.5 * e,
        "the first at index (1, 2)": np.where(np.arange(9).reshape(3, 3) >= 5, e + 1, e),
        "contains NaN": np.where(np.eye(3) > 0, np.nan, e),
        "shape (3, 3, 1), expected shape (3, 3)": e[:, :, None],
        "dtype bool": e > 1,
    }
    for words, actual in cases.items():
        public = problems(actual, e, tol)
        assert len(public) == 1, (words, public)
        hidden = say_in('en', public[0].render(True))
        assert words in hidden, (words, hidden)
        assert not _numbers(hidden), hidden
        assert "0.3817" not in hidden and "e-06" not in hidden and "1e-06" not in hidden
    public = say_in('en', problems(e + 0.1234, e, tol)[0].render(False))
    assert "largest error 0.123" in public and "1e-06 + 1e-06*|expected|" in public


def test_hidden_scalar_says_wrong_value_or_sign_only():
    """Does a wrong scalar on a hidden check say 'wrong value' (or 'wrong sign' when it is
    the negative), never the error, the allowed error or the expected number?"""
    expected = 0.381
    hidden = _hidden(0.5, expected, Tol(atol=1e-12))
    assert hidden == ["result: wrong value (outside the tolerance)"]
    assert _hidden(-0.381, expected, Tol(atol=1e-9)) == [
        "result: has the wrong sign (it is the negative of the right result)"]
    public = say_in("en", problems(0.5, expected, Tol(atol=1e-12))[0].render(False))
    assert "error 0.119" in public  # public inputs are printed in the notebook: keep helping


def test_hidden_wording_drops_text_the_submission_chose():
    """Can a submission put chosen text into hidden feedback through a returned string, the
    name of an exception class, an unsupported object's type name or a huge shape? Each is
    replaced by a category; the expected shape, key names and built-in exception names stay."""
    assert _hidden("LEAK0.4231", "tie") == ["result: wrong value"]
    assert _hidden(Raised("LEAK4231"), Raised("ValueError")) == [
        "result: should raise ValueError, raised an exception of a class defined in the "
        "submission"]
    assert _hidden(Raised("TypeError"), Raised("ValueError")) == [
        "result: should raise ValueError, raised TypeError"]
    assert _hidden(Opaque("LEAK_4231"), 1.0) == [
        "result: should be a number, got a value that is not a number, array or list"]
    assert _hidden(np.zeros((0, 4231)), np.zeros(8)) == ["result: wrong shape, expected "
                                                         "shape (8,)"]
    assert _hidden(np.zeros((8, 1)), np.zeros(8)) == ["result: shape (8, 1), expected shape "
                                                      "(8,)"]
    assert _hidden([1.0] * 4231, [1.0, 2.0]) == ["result: wrong length, expected length 2"]
    assert _hidden({"w": 1.0}, {"w": 1.0, "b": 2.0}, {"w": EXACT, "b": EXACT}) == [
        "result: missing key 'b'"]


def test_compare_findings_are_json_messages_worded_per_language():
    """Are compare()'s findings plain JSON messages (stored in results, embedded in otter
    files) that word the same finding in each language, after a JSON round trip too?"""
    import json
    found = checklib.compare(np.array([1.0, 2.5]), np.array([1.0, 2.0]), EXACT)
    back = json.loads(json.dumps(found))
    assert say_in("en", back[0]) == say_in("en", found[0])
    assert "largest error 0.5 at index (1,)" in say_in("en", back[0])
    assert "el mayor error es 0.5 en el índice (1,)" in say_in("es", back[0])
    assert "maior erro 0.5 no índice (1,)" in say_in("pt", back[0])


def test_judge_guard_replaces_leaking_messages():
    """Does the guard for hidden property judges replace a message with a measured size
    ("mse 0.031, allowed 0.02"), an exponent, a percentage, an integer of the expected value
    or a string the submission returned, and keep categorical messages?"""
    expected = {"value": np.array([3.0, 0.25]), "count": 17}
    outputs = {"name": "sneaky-text"}
    leaking = ["mse 0.031, allowed 0.02", "relative error 3e-05", "accuracy 38%",
               "17 of the steps", "got 3 values", "you returned sneaky-text"]
    for message in leaking:
        assert judge_message_leaks(message, expected, outputs), message
    safe = ["the loss became NaN or inf during training",
            "likely mistake: the matrix is transposed, (n_out, n_in) as in torch.nn.Linear",
            "backward must return a dict with keys dW1, db1, dW2, db2"]
    for message in safe:
        assert not judge_message_leaks(message, expected, outputs), message
    assert guard_judge_messages(leaking + safe, expected, outputs) == \
        [HIDDEN_JUDGE_MESSAGE] + safe


def test_caps_keep_a_few_lines_and_say_how_many_were_dropped():
    """Does cap_head keep 5 lines of a 10,000-line text with '[... 9995 more lines]', cut a
    single long line at 400 characters, and cap_tail keep the end with a leading marker?"""
    text = "\n".join(f"row {i}" for i in range(10_000))
    head = cap_head(text)
    assert head.splitlines() == [f"row {i}" for i in range(5)] + ["[... 9995 more lines]"]
    assert len(cap_head("x" * 10_000)) < 450 and "[... 9600 more characters]" in \
        cap_head("x" * 10_000)
    tail = cap_tail(text, lines=3)
    assert tail.splitlines() == ["[... 9997 more lines]", "row 9997", "row 9998", "row 9999"]
    assert cap_head("two\nlines") == "two\nlines" and cap_tail("short") == "short"


# ---------------------------------------------------------------------------- end to end

# slug -> (question, function, body returning a wrong constant): every hidden check of that
# question calls the function, so its expected values are what a leak would reveal.
CONSTANTS = {
    "perceptron": ("q2", "accuracy", "return 0.5"),
    "gradient_descent": ("q2", "max_stable_lr", "return 0.5"),
    "glorot": ("q1", "preactivation_variance", "return 0.5"),
    "vae": ("q2", "kl_divergence", "return torch.full(mu.shape[:1], 0.5, dtype=mu.dtype)"),
    "gan": ("q3", "jensen_shannon", "return 0.3"),
    "embeddings": ("q4", "analogy_accuracy", "return 0.5, 10"),
}


def _constant_cell(assignment, qid: str, function: str, body: str) -> str:
    """The question's cell: the reference for its other functions, a constant for one."""
    parts = []
    for name in assignment.question(qid).defines:
        fn = getattr(assignment.reference, name)
        if name == function:
            parts.append(f"def {name}{inspect.signature(fn)}:\n    {body}\n")
        else:
            parts.append(inspect.getsource(fn))
    return "\n\n".join(parts)


def _floats(value, found: list) -> list:
    if isinstance(value, dict):
        for v in value.values():
            _floats(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _floats(v, found)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
        found += [float(v) for v in value.ravel()]
    elif isinstance(value, float):
        found.append(value)
    return found


_DECIMAL = re.compile(r"(?<![\w.])-?(?:\d+\.\d+(?:e[-+]?\d+)?|\d+e[-+]?\d+)(?![\w.])")


def _digits(token: str) -> int:
    """Significant digits of a decimal token ("0.000065" -> 2, "1.56e+22" -> 3)."""
    return len(token.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0"))


def _shows(token: str, values: np.ndarray) -> bool:
    """Whether the decimal token is one of the values printed to the token's precision: repr,
    %.2g, %.3g, %.4g, %.6f or any other number of significant digits."""
    x, k = float(token), max(1, _digits(token))
    return any(float(f"{v:.{k}g}") == x for v in values)


def _values(assignment, qid: str, constant: float, hidden: bool) -> np.ndarray:
    """The expected numbers of qid's hidden (or public) checks and their distance to the
    constant: what a print of the expected value or of the error would show."""
    plan = make_plan(assignment)
    expected = expectations(plan).expected
    found = []
    for planned in plan.checks:
        if planned.check.question == qid and planned.check.hidden == hidden:
            found += [v for v in _floats(expected[planned.id], []) if np.isfinite(v)]
    return np.array(found + [abs(constant - v) for v in found])


def _found(text: str, secrets: np.ndarray, public: np.ndarray, possible: float) -> list[str]:
    """Decimal numbers in text (2 significant digits or more) that print a hidden expected
    value or error; numbers public checks' values print the same way (public feedback shows
    those errors) and scores or points (multiples of 0.05) are not secrets."""
    leaks = []
    for token in set(_DECIMAL.findall(text)):
        x = float(token)
        if _digits(token) < 2 or (abs(x * 20 - round(x * 20)) < 1e-9 and abs(x) <= possible):
            continue
        if _shows(token, secrets) and not _shows(token, public):
            leaks.append(token)
    return sorted(leaks)


def _visible(html: str) -> str:
    """The page without its stylesheet and image data (CSS sizes are not data)."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def _grade_one(assignment, path: Path, out: Path):
    summary = grade_batch(assignment, [path], out,
                          BatchOptions(jobs=1, timeout=300, quiet=True, force=True,
                                       self_check=False))
    [result] = summary.results
    [page] = (out / "feedback").glob("*.html")
    [saved] = (out / "results").glob("*.json")
    return result, page, saved, out / "grades.csv"


@pytest.mark.parametrize("slug", sorted(CONSTANTS))
def test_wrong_constant_feedback_holds_no_expected_value(slug, tmp_path, box):
    """Graded with one function returning a wrong constant, does the feedback page, the results
    JSON or grades.csv contain any hidden expected value of that question, or its distance to
    the constant, printed to any precision (repr, %.2g, %.3g, %.4g, %.6f, ...)? The hidden checks still say what is wrong,
    and a failing public check of the same function still gives its measured error."""
    assignment = load_assignment(slug)
    qid, function, body = CONSTANTS[slug]
    constant = float(re.search(r"\d+\.\d+", body).group())
    code = _constant_cell(assignment, qid, function, body)
    path = notebook_with_code(assignment, {qid: code}, tmp_path / "subs" / "constant.ipynb")
    result, page, saved, grades = _grade_one(assignment, path, tmp_path / "out")
    assert result.status == "ok", result.message
    secrets = _values(assignment, qid, constant, hidden=True)
    public = _values(assignment, qid, constant, hidden=False)
    assert secrets.size, f"{slug} {qid}: no hidden numeric expected value"
    data = json.loads(saved.read_text())
    data.pop("seconds", None)  # a timing: equal to some value only by chance
    for name, text in (("feedback page", _visible(page.read_text())),
                       ("results JSON", json.dumps(data)), ("grades.csv", grades.read_text())):
        leaks = _found(text, secrets, public, assignment.possible)
        assert not leaks, (slug, name, leaks[:5])
    mine = [c for c in result.checks if c.question == qid]
    hidden = [c for c in mine if c.hidden and c.status == "failed"]
    assert hidden, "the constant must fail some hidden check for this test to mean much"
    assert all(c.feedback for c in hidden)
    public = [c for c in mine if not c.hidden and c.status == "failed"]
    assert any(re.search(r"error \d+(\.\d+)?(e[-+]?\d+)?", f) for c in public
               for f in c.feedback), [c.feedback for c in public]


def test_cell_errors_and_output_are_capped(tmp_path, perceptron, box):
    """Does a cell raising an exception with a 10,000-line message show a few lines of it (with
    a '[... N more lines]' marker) on the feedback page, in the results JSON and in
    grades.csv, and does a cell printing 10,000 lines keep only a bounded tail?"""
    cells = ["import numpy as np",
             "print('\\n'.join(f'printed {i}' for i in range(10_000)))",
             "raise ValueError('\\n'.join(f'flood {i}' for i in range(10_000)))"]
    path = notebook_with(cells, tmp_path / "subs" / "flood.ipynb")
    result, page, saved, grades = _grade_one(perceptron, path, tmp_path / "out")
    [error] = result.cell_errors
    assert error["type"] == "ValueError"
    lines = error["message"].splitlines()
    assert lines[:5] == [f"flood {i}" for i in range(5)] and len(lines) == 6
    assert re.fullmatch(r"\[\.\.\. \d+ more lines\]", lines[-1])
    text = page.read_text()
    assert "flood 4" in text and "flood 5" not in text and "more lines]" in text
    assert "flood 5" not in saved.read_text()
    with open(grades) as fh:
        [row] = list(csv.DictReader(fh))
    assert "flood 0" in row["message"] and "flood 1" not in row["message"]
    output = json.loads(saved.read_text())["output"].splitlines()
    assert len(output) <= 41 and all(re.fullmatch(r"printed \d+", line) for line in output[1:-2])
    assert re.fullmatch(r"\[\.\.\. \d+ more lines\]", output[0])


def test_hidden_exception_shows_builtin_type_and_the_notebook_line(tmp_path, perceptron, box):
    """Can a function smuggle hidden inputs through the name of the exception class it raises
    or a forged traceback line (linecache)? Hidden checks show a built-in type name only and
    the line as it is in the submitted notebook; public checks keep the exception text."""
    code = textwrap.dedent("""
        import linecache
        import numpy as np

        def predict(X, w, b):
            fake = ["LE" + "AK" + repr(np.asarray(X).tolist()) + "\\n"] * 50
            for key in list(linecache.cache):
                linecache.cache[key] = (1, None, fake, key)
            raise type("LE" + "AK" + str(np.asarray(X).ravel()[0]), (Exception,), {})("LE" + "AK")
    """)
    path = notebook_with([code], tmp_path / "subs" / "smuggler.ipynb")
    result, page, saved, grades = _grade_one(perceptron, path, tmp_path / "out")
    hidden = [c for c in result.checks if c.hidden and c.question == "q1"]
    assert hidden and all(c.status == "error" for c in hidden)
    for check in hidden:
        text = "\n".join(check.feedback)
        assert "LEAK" not in text, text
        assert re.search(r"raised (Exception|an exception of a class defined in the "
                         r"submission) \(at cell", text), text
        assert "line 9: raise type(" in text, text  # the real line, read from the notebook
    public = [c for c in result.checks if not c.hidden and c.question == "q1"]
    assert any("LEAK" in f for c in public for f in c.feedback)


def test_judge_guard_in_grading(tmp_path, box, monkeypatch):
    """Through real grading, does a property judge that prints a measured size ("mse 0.031,
    allowed 0.02") and the expected number keep those messages on its public check, while
    its hidden check shows the check's name with "does not match the expected result" and
    keeps the judge's categorical note?"""
    assignment = load_assignment("glorot")

    def chatty(inputs, outputs, expected):
        return 0.0, ["mse 0.031, allowed 0.02",
                     f"your first entry should be {float(np.ravel(expected['W'])[0])!r}",
                     "likely mistake: the matrix is transposed"]

    monkeypatch.setattr(assignment.judges, "glorot_uniform_sample", chatty)
    path = notebook_with_code(assignment, {}, tmp_path / "subs" / "reference.ipynb")
    result, page, saved, grades = _grade_one(assignment, path, tmp_path / "out")
    judged = [c for c in result.checks if c.question == "q3" and "uniform" in c.name
              and c.status == "failed"]
    assert {c.hidden for c in judged} == {False, True}
    for check in judged:
        text = "\n".join(check.feedback)
        assert "likely mistake: the matrix is transposed" in text
        if check.hidden:
            assert f"hidden check '{check.name}': {say_in('en', HIDDEN_JUDGE_MESSAGE)}" in text
            assert "0.031" not in text and "first entry" not in text, text
        else:
            assert "mse 0.031, allowed 0.02" in text and "first entry" in text
    assert "0.031" in page.read_text()  # from the public check only


def test_hidden_error_reads_the_line_from_the_notebook(tmp_path):
    """Does a hidden check's exception keep a built-in type name and take the line's code from
    the submitted notebook, whatever type name and code the sandbox reported (a class named
    after a hidden input, a forged linecache entry, a line that does not exist)?"""
    from neurograde.feedback import hidden_error
    path = notebook_with(["import numpy as np", "def f(x):\n    return 1 / 0"],
                         tmp_path / "nb.ipynb")
    forged = {"type": "LEAK_0_4231", "message": "LEAK",
              "where": "cell 2, line 2: LEAK [0.4231, 0.5]"}
    def english(err):
        return say_in("en", hidden_error(err, path, "sha"))

    assert english(forged) == \
        "an exception of a class defined in the submission (at cell 2, line 2: return 1 / 0)"
    assert english({**forged, "type": "ZeroDivisionError", "where": "cell 2, line 99: x"}) == \
        "ZeroDivisionError"
    assert english({"type": "ValueError", "where": "LEAK 0.4231"}) == "ValueError"


def test_otter_hidden_cases_are_categorical_too(tmp_path, perceptron, monkeypatch):
    """In the otter test files (the autograder zip), does a hidden case fail a wrong constant
    with the categorical wording while the public case of the same function states the
    measured error? (A course may show hidden results on Gradescope after grading.)"""
    import sys
    import types
    from neurograde.release import write_otter_tests
    write_otter_tests(perceptron, tmp_path, include_hidden=True)
    # The test file execs checklib into sys.modules["checklib"]; give it a module of its own
    # so the grader's checklib (which probes import under that name) is left alone.
    monkeypatch.setitem(sys.modules, "checklib", types.ModuleType("checklib"))
    namespace = {}
    exec(compile((tmp_path / "q2.py").read_text(), "q2.py", "exec"), namespace)
    cases = [v for k, v in namespace.items() if k.startswith("test_") and k != "test_case"]
    env = {"np": np, "accuracy": lambda y_true, y_pred: 0.5}
    messages = {}
    for case in cases:
        if "mismatch" in case.name:
            continue
        with pytest.raises(AssertionError) as failure:
            case.test_func(env)
        messages[case.hidden] = str(failure.value)
    assert "wrong value (outside the tolerance)" in messages[True]
    assert not _numbers(messages[True]), messages[True]
    assert re.search(r"error 0\.\d+ exceeds the allowed", messages[False]), messages[False]
