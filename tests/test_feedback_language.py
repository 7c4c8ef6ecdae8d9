"""A wrong Spanish or Portuguese submission's feedback page has no English sentence in it.

The notebooks are released in es and pt (release.build_notebook), filled with known mistakes
and with generically wrong code (a wrong shape, an exception, a missing function after a
failing cell, a wrong type or NaN), graded without --lang (the notebook's own language must be
picked up) and rendered. What may stay English on such a page is what the student wrote (their
code lines and string literals) and code-like tokens (API names, identifiers, subscripts);
everything else is searched for common English words.
"""

import ast
import html
import re

import nbformat
import pytest

from assignment_grading import mistake_rounds, notebook_with_code, notebook_with_mistakes
from neurograde.batch import BatchOptions, grade_batch
from neurograde.checklib import say
from neurograde.i18n import catalog
from neurograde.messages import render
from neurograde.spec import LANGUAGES, all_assignments, load_assignment

# Whole words that no Spanish or Portuguese sentence has and most English ones do ("for" is
# Portuguese too: "se o gradiente for menor").
ENGLISH = ("the", "is", "should", "expected", "returned", "not", "with", "of", "check",
           "checks", "hidden", "public", "passed", "failed", "and", "your", "got", "must",
           "wrong", "raised", "nothing", "likely", "mistake", "cell", "line", "this", "that",
           "was", "but", "are", "does", "from", "to", "which", "when", "graded")

# Generically wrong answers (not named mistakes) that reach the engine's own messages: a wrong
# shape, an exception of the student's, a function missing after a failing cell, a wrong type
# or NaN. Literals are not English, so any English on the page is the grader's.
GENERIC = {
    "perceptron": {
        "q1": "def predict(X, w, b):\n    return np.zeros((len(X), 2))\n",
        "q2": "def accuracy(y_true, y_pred):\n    raise ValueError('nada')\n",
        "q3": "raise RuntimeError('uy')\n",
        "q4": "def train_perceptron(X, y, epochs, lr=1.0):\n    return 'hola'\n"},
    "gradient_descent": {
        "q1": "def gradient_descent(grad_f, x0, lr, n_steps):\n"
              "    return np.zeros((n_steps, len(x0)))\n",
        "q2": "def max_stable_lr(A):\n    raise ValueError('nada')\n",
        "q3": "raise RuntimeError('uy')\n",
        "q4": "def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):\n"
              "    return np.full((3, len(w0)), np.nan)\n"},
}
LANGS = ("es", "pt")


def _student_text(notebook) -> set[str]:
    """What the student wrote and a page may quote: code lines and string literals."""
    nb = nbformat.read(str(notebook), as_version=4)
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        found |= {line.strip() for line in cell.source.splitlines() if line.strip()}
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        found |= {node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return found


def _prose(page: str, student: set[str]) -> str:
    """The page's visible text minus the student's own text and code-like tokens."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", " ", page)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    for quoted in sorted(student, key=len, reverse=True):
        if len(quoted) > 1:
            text = text.replace(quoted, " ")
    # Code-like tokens: subscripts, dotted and snake_case names, calls, Python exceptions.
    text = re.sub(r"[\w.]*\[[^\]\n]*\]", " ", text)
    text = re.sub(r"\b\w+(?:[._]\w+)+\b", " ", text)
    return re.sub(r"\b\w*(?:Error|Exception)\b", " ", text)


def _english(text: str) -> list[str]:
    """Each line of text that has one of the ENGLISH words (as a whole word)."""
    pattern = re.compile(r"(?<![\w'])(" + "|".join(ENGLISH) + r")(?![\w'])", re.I)
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


@pytest.fixture(scope="module", params=sorted(GENERIC))
def graded(request, tmp_path_factory):
    """An assignment's es and pt notebooks with mistakes and generic errors, graded without
    --lang; returns (assignment, out folder, {stem: notebook path})."""
    assignment = load_assignment(request.param)
    base = tmp_path_factory.mktemp(f"lang-{assignment.slug}")
    paths = {}
    for lang in LANGS:
        for k, mistakes in enumerate(mistake_rounds(assignment)[:2]):
            path = base / "subs" / f"{lang}-round{k}.ipynb"
            paths[path.name] = notebook_with_mistakes(assignment, mistakes, path, lang)
        path = base / "subs" / f"{lang}-generic.ipynb"
        paths[path.name] = notebook_with_code(assignment, GENERIC[assignment.slug], path, lang)
    out = base / "out"
    summary = grade_batch(assignment, list(paths.values()), out,
                          BatchOptions(jobs=2, timeout=120, quiet=True))
    assert all(r.total < r.possible for r in summary.results), "every submission is wrong"
    assert all(r.status == "ok" for r in summary.results)
    return assignment, out, paths


def test_the_english_detector_finds_english(graded):
    """Does the same search find English on the English page of the same wrong submission
    (so a pass below means something)?"""
    from neurograde.report import write_reports
    from neurograde.gradebook import Gradebook
    assignment, out, paths = graded
    book = Gradebook(out)
    try:
        results = book.export(assignment.question_ids, assignment.slug)
    finally:
        book.close()
    english_out = out.parent / "english"
    write_reports(results, assignment, english_out, lang="en")
    for name, notebook in paths.items():
        page = (english_out / "feedback" / f"{name}.html").read_text()
        assert len(_english(_prose(page, _student_text(notebook)))) >= 5, name


@pytest.mark.parametrize("lang", LANGS)
def test_wrong_submission_feedback_has_no_english(graded, lang):
    """Graded without --lang, is a wrong es / pt submission's page in the notebook's language
    (named mistakes, check names, badges, tolerance and exception messages, cell errors,
    the notes), with no English word outside the student's own code and API names?"""
    assignment, out, paths = graded
    mine = {name: path for name, path in paths.items() if name.startswith(f"{lang}-")}
    assert len(mine) == 3
    problems = {}
    for name, notebook in mine.items():
        page = (out / "feedback" / f"{name}.html").read_text()
        assert f'<html lang="{lang}">' in page, name
        found = _english(_prose(page, _student_text(notebook)))
        if found:
            problems[name] = found[:8]
    assert not problems, problems


def test_named_mistakes_read_as_written_through_the_catalog():
    """Rendered from the message catalog (as the results' lines and the otter tests of a
    release do), does every assignment's named mistake read exactly as written in each
    language, braces such as x_{n+1} included (they are text, not format fields)?"""
    wrong = []
    count = 0
    for assignment in all_assignments():
        for lang in LANGUAGES:
            table = catalog(lang, assignment)
            for mistake in assignment.mistakes:
                count += 1
                shown = render(say(f"mistake:{mistake.id}"), table)
                if shown != mistake.text(lang):
                    wrong.append((assignment.slug, lang, mistake.id, shown[:80]))
    assert count > 100 and any("{" in m.text("en") for a in all_assignments()
                               for m in a.mistakes), "some mistake text must have braces"
    assert not wrong, wrong
