"""Feedback pages and the class report: what they show, and what they never show."""

import base64
import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.exports import write_exports
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.report import COLORS, points, question_plot, write_reports
from classroom import write_class
from conftest import notebook_with

LEAKY = '''
import numpy as np
print("LEAK-cell")

def predict(X, w, b):
    print("LEAK-predict", np.asarray(X).tolist(), np.asarray(w).tolist(), b)
    return np.zeros(len(X))

def accuracy(y_true, y_pred):
    print("LEAK-accuracy", list(y_true), list(y_pred))
    return 0.5

def better_model(X, y, models):
    print("LEAK-better", np.asarray(X).tolist(), {k: (np.asarray(w).tolist(), b)
                                                   for k, (w, b) in models.items()})
    return "nope"

def train_perceptron(X, y, epochs, lr=1.0):
    print("LEAK-train", np.asarray(X).tolist(), list(y))
    return np.ones(np.shape(X)[1]), 1.0, [0] * epochs
'''


class Page(HTMLParser):
    """The parts of a page the tests look at: images and table rows by table id."""

    def __init__(self, text):
        super().__init__()
        self.images, self.tables, self._table, self._row = [], {}, None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._row:
            self._row[-1] += data.strip()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, perceptron):
    base = tmp_path_factory.mktemp("report")
    subs = base / "subs"
    write_class(perceptron, subs, 5)              # correct, partly wrong, broken, half, garbage
    notebook_with([LEAKY], subs / "leaky.ipynb")
    notebook_with(["while True:\n    pass"], subs / "spinner.ipynb")
    out = base / "out"
    summary = grade_batch(perceptron, [subs], out, BatchOptions(jobs=2, timeout=4, quiet=True))
    return out, {r.submission: r for r in summary.results}


def _decimals(value, found: set[str]) -> set[str]:
    """Every non-integer float in value, as the decimal text a print of it would show."""
    if isinstance(value, dict):
        for v in value.values():
            _decimals(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _decimals(v, found)
    elif hasattr(value, "tolist"):
        _decimals(value.tolist(), found)
    elif isinstance(value, float) and value != int(value):
        text = repr(round(value, 6))
        if len(text.split(".")[1]) >= 2:  # "1.5" is also a score; "-3.47" is not
            found.add(text)
    return found


def _secret_numbers(perceptron) -> set[str]:
    """Inputs of hidden checks and expected values (minus numbers public checks print)."""
    plan = make_plan(perceptron)
    exp = expectations(plan)
    secret, public = set(), set()
    for planned in plan.checks:
        if planned.check.hidden:
            _decimals(planned.inputs, secret)
            _decimals(exp.expected[planned.id], secret)
        else:
            _decimals(planned.inputs, public)
    # Scores and points (quarter multiples up to the total) are printed on every page; a hidden
    # input equal to one of them by chance is not a leak.
    public |= {f"{k / 4:g}" for k in range(0, 4 * int(perceptron.possible) + 1)}
    return secret - public


def _visible_text(html: str) -> str:
    """The page without its stylesheet and image data (CSS sizes are not data)."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return [s for s in secrets if re.search(r"(?<![\d.])" + re.escape(s) + r"(?!\d)", text)]


def test_feedback_never_shows_hidden_inputs_expected_values_or_stdout(graded, perceptron):
    """Does no feedback page (nor Gradescope file) contain a hidden input, an expected value or
    the notebook's printed output — even for a student who prints every input it receives?"""
    out, results = graded
    secrets = _secret_numbers(perceptron)
    assert len(secrets) > 50
    raw = results["leaky.ipynb"].output
    # The leaky student printed every input it was given; what the grader kept is what it
    # printed before any hidden input reached the sandbox (public inputs only).
    assert "LEAK-predict" in raw, "the leaky student must really have printed its inputs"
    assert not _leaks(raw, secrets), _leaks(raw, secrets)[:5]
    for page in (out / "feedback").glob("*.html"):
        text = _visible_text(page.read_text())
        assert "LEAK" not in text, page.name
        assert not _leaks(text, secrets), (page.name, _leaks(text, secrets)[:5])
    write_exports(list(results.values()), perceptron, out / "exports", ("canvas",), None)
    for path in (out / "exports").glob("*.csv"):
        text = path.read_text()
        assert "LEAK" not in text and not _leaks(text, secrets), path
    # The class report is the instructor's (its means may equal some input by chance), but it
    # does not carry student output either.
    assert "LEAK" not in (out / "report.html").read_text()


def test_feedback_page_content(graded, perceptron):
    """Does a feedback page give the score per question, the named mistake in words, the
    failed check's measured error, cell errors, run status, and an embedded plot?"""
    out, results = graded
    wrong = (out / "feedback" / "s01.ipynb.html").read_text()
    page = Page(wrong)
    _assert_question_bars(page.images[0]["src"], results["s01.ipynb"])
    assert "Likely mistake:" in wrong
    assert "use &gt;= 0, not &gt; 0" in wrong         # the mistake text, escaped
    total = results["s01.ipynb"].total
    assert 0 < total < 10 and f"{total:g} / 10" in wrong and "1.5 / 2" in wrong
    # The public boundary check shows the measured error; the hidden one says only what kind
    # of thing is wrong, not the error size.
    assert "largest error" in wrong
    assert "wrong values (outside the tolerance), the first at index" in wrong
    hidden = [line for c in results["s01.ipynb"].checks if c.hidden for line in c.feedback]
    assert hidden and not any("largest error" in line for line in hidden)
    broken = (out / "feedback" / "s02.ipynb.html").read_text()
    assert "Errors while running your notebook" in broken and "SyntaxError" in broken
    spinner = (out / "feedback" / "spinner.ipynb.html").read_text()
    assert "The grader stopped your notebook" in spinner and "timeout" in spinner
    assert "Errors" not in (out / "feedback" / "s00.ipynb.html").read_text()


def _assert_question_bars(src, result):
    """The page's chart is an SVG image with one bar per question, as long as its share of
    the points, coloured by its status, and the points written beside it."""
    prefix = "data:image/svg+xml;base64,"
    assert src.startswith(prefix)
    svg = ElementTree.fromstring(base64.b64decode(src[len(prefix):]))
    ns = "{http://www.w3.org/2000/svg}"
    rects = svg.findall(f"{ns}rect")[1:]  # the first is the white background
    texts = [t.text for t in svg.findall(f"{ns}text")]
    assert len(rects) == 2 * len(result.questions)
    for i, q in enumerate(result.questions):
        track, filled = rects[2 * i], rects[2 * i + 1]
        share = float(filled.get("width")) / float(track.get("width"))
        assert share == pytest.approx(q.score / q.possible, abs=1e-3), q.id
        assert filled.get("fill") == COLORS[q.status]
        assert texts[2 * i] == q.id
        assert texts[2 * i + 1] == f"{points(q.score)} / {points(q.possible)}"


def test_question_chart_escapes_and_clamps():
    """A question id is text in the SVG (escaped), and a score outside 0..possible (from an
    old stored row) never draws a bar longer than its track or of negative width."""
    from neurograde.judge import QuestionResult, SubmissionResult
    questions = (QuestionResult("<q&1>", 3.0, 2.0, "passed", ()),
                 QuestionResult("q2", -1.0, 2.0, "failed", ()),
                 QuestionResult("q3", 0.0, 0.0, "passed", ()))
    result = SubmissionResult("s", "perceptron", "1", "sha", "ok", "", 2.0, 6.0, questions, ())
    src = question_plot(result)
    svg = ElementTree.fromstring(base64.b64decode(src.split(",", 1)[1]))
    ns = "{http://www.w3.org/2000/svg}"
    rects = svg.findall(f"{ns}rect")[1:]
    assert [float(r.get("width")) for r in rects[1::2]] == [440.0, 0.0, 0.0]
    assert svg.find(f"{ns}text").text == "<q&1>"


def test_feedback_language(graded, perceptron, tmp_path):
    """Is the page's own text in the feedback language (Spanish here)?"""
    _, results = graded
    write_reports([results["s01.ipynb"]], perceptron, tmp_path, lang="es")
    text = (tmp_path / "feedback" / "s01.ipynb.html").read_text()
    assert 'lang="es"' in text and "Error probable" in text and "Pregunta q1" in text


def test_pages_are_rewritten_only_when_they_change(graded, perceptron, tmp_path):
    """Does a second write skip unchanged feedback pages and rewrite those whose result
    (here: language) changed?"""
    _, results = graded
    items = list(results.values())
    assert write_reports(items, perceptron, tmp_path) == len(items)
    assert write_reports(items, perceptron, tmp_path) == 0
    assert write_reports(items[:2], perceptron, tmp_path, lang="pt") == 2


def test_class_report_numbers_and_tables(graded, perceptron):
    """Does report.html hold the plots, a row per submission linking its feedback page, status
    counts with the timeout and the unreadable file, and difficulty = mean / possible?"""
    out, results = graded
    page = Page((out / "report.html").read_text())
    assert len(page.images) >= 3
    for img in page.images:
        assert img["src"].startswith("data:image/svg+xml;base64,"), img["src"][:40]
        svg = ElementTree.fromstring(base64.b64decode(img["src"].split(",", 1)[1]))
        assert svg.tag == "{http://www.w3.org/2000/svg}svg" and float(svg.get("width")) > 200
    rows = page.tables["submissions"][1:]
    assert sorted(r[0] for r in rows) == sorted(results)
    statuses = dict((r[0], int(r[1])) for r in page.tables["statuses"][1:])
    assert statuses["timeout"] == 1 and statuses["invalid"] == 1
    assert sum(statuses.values()) == len(results)
    q4 = next(r for r in page.tables["questions"][1:] if r[0] == "q4")
    mean = sum(q.score for r in results.values() for q in r.questions if q.id == "q4") \
        / len(results)
    assert q4[3] == f"{100 * mean / 4:.0f}%"
    assert 'href="feedback/s00.ipynb.html"' in (out / "report.html").read_text()
    assert json.loads((out / "results" / "leaky.ipynb.json").read_text())["submission"] == \
        "leaky.ipynb"


def test_an_empty_shard_still_gets_a_report(perceptron, tmp_path):
    """Does a batch with no submissions (an empty shard) write a report instead of failing?"""
    assert write_reports([], perceptron, tmp_path) == 0
    text = (tmp_path / "report.html").read_text()
    assert "0 submission(s)" in text and Page(text).tables["submissions"] == [
        ["submission", "q1", "q2", "q3", "q4", "total", "status", "message"]]
