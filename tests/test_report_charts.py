"""The class report's charts (SVG written as text) read back as a reader would: bar heights
against the axis' own tick labels, the mean line's position, labels and colours."""

import base64
import dataclasses
import json
import subprocess
import textwrap
from xml.etree import ElementTree

import pytest

from neurograde import charts
from neurograde.judge import CheckResult, QuestionResult, SubmissionResult
from neurograde.report import STATUS_COLORS, _difficulty_color, class_charts, class_context, \
    labels

SVG = "{http://www.w3.org/2000/svg}"


def _result(perceptron, name, scores, status="ok", mistakes=()):
    """A gradebook row with the given points per question (in question order) and the named
    mistakes on its checks."""
    questions = tuple(QuestionResult(q.id, s, q.points, "passed" if s >= q.points else "failed")
                      for q, s in zip(perceptron.questions, scores))
    checks = tuple(CheckResult(f"c{i}", perceptron.questions[0].id, f"c{i}", False, 1.0, 0.0,
                               "failed", mistake=m) for i, m in enumerate(mistakes))
    return SubmissionResult(name, perceptron.slug, "1", "sha", status, "", float(sum(scores)),
                            perceptron.possible, questions, checks)


def _charts(results, assignment, lang="en") -> dict:
    """The report's plots (as the page embeds them) decoded and parsed."""
    plots = class_context(results, assignment, lang)["plots"]
    for src in plots.values():
        assert src.startswith("data:image/svg+xml;base64,")
    return {k: ElementTree.fromstring(base64.b64decode(v.split(",", 1)[1]))
            for k, v in plots.items()}


def _of(root, tag, css=None) -> list:
    return [e for e in root.iter(SVG + tag) if css is None or e.get("class") == css]


def _bars(root) -> list[dict]:
    return [{k: float(e.get(k)) for k in ("x", "y", "width", "height")} | {"fill": e.get("fill")}
            for e in _of(root, "rect", "bar")]


def _axis(root, anchor: str, coord: str) -> tuple[float, float]:
    """(pixel of 0, pixels per unit) of the axis whose tick labels have this text-anchor
    ("end": the vertical axis, "middle": the horizontal one), read from those labels."""
    ticks = [(float(t.text), float(t.get(coord))) for t in _of(root, "text", "tick")
             if t.get("text-anchor") == anchor and "transform" not in t.attrib]
    assert len(ticks) >= 3, ticks
    (v0, p0), (v1, p1) = ticks[0], ticks[-1]
    assert v0 == 0
    return p0, (p1 - p0) / (v1 - v0)


def _texts(root, css=None) -> list[str]:
    return ["".join(t.itertext()) for t in _of(root, "text", css)]


def test_histogram_bars_are_the_counts_per_bin_and_the_mean_line_is_at_the_mean(perceptron):
    """Does each histogram bar stand over its bin (1 point wide out of 10) as tall as the
    number of totals in it, on the chart's own y axis (heights summing to the class size),
    with the dashed red mean line at the mean's x position and its legend?"""
    rows = [(2, 0, 0, 0), (1, 1, 0, 0.5), (1, 1, 0.5, 0), (2, 2, 1, 0), (2, 2, 2, 1.25),
            (2, 2, 2, 4), (2, 2, 2, 4), (2, 2, 2, 4), (0, 0, 0, 0)]
    results = [_result(perceptron, f"s{i}", r) for i, r in enumerate(rows)]
    totals = [sum(r) for r in rows]              # 2, 2.5, 2.5, 5, 7.25, 10, 10, 10, 0
    root = _charts(results, perceptron)["distribution"]
    assert float(root.get("width")) >= 700
    y0, per_count = _axis(root, "end", "y")
    x0, per_point = _axis(root, "middle", "x")
    assert per_count < 0 < per_point
    bars = _bars(root)
    assert {b["fill"] for b in bars} == {"#1565c0"}
    # (coordinates are written to 0.01 px, tick positions to 0.1 px)
    assert sum(b["height"] for b in bars) / -per_count == pytest.approx(len(totals), abs=0.01)
    drawn = {}
    for b in bars:
        left = (b["x"] - x0) / per_point
        assert b["width"] / per_point == pytest.approx(1.0, abs=0.01)
        # every bar stands on the zero line (its tick label is centred on that line)
        assert 0 < y0 - (b["y"] + b["height"]) < charts.SMALL / 2
        assert left == pytest.approx(round(left), abs=0.01)
        drawn[round(left)] = round(b["height"] / -per_count, 2)
    assert drawn == {0: 1, 2: 3, 5: 1, 7: 1, 9: 3}   # 10 of 10 falls in the last bin
    (mean_line,) = _of(root, "line", "mean")
    mean = sum(totals) / len(totals)
    assert (float(mean_line.get("x1")) - x0) / per_point == pytest.approx(mean, abs=0.01)
    assert mean_line.get("x1") == mean_line.get("x2")
    assert mean_line.get("stroke") == "#c62828" and mean_line.get("stroke-dasharray")
    assert _texts(root, "legend") == [f"mean {mean:.2f}"]
    assert "total points (of 10)" in _texts(root) and "submissions" in _texts(root)
    counts = [t.text for t in _of(root, "text", "tick") if t.get("text-anchor") == "end"]
    assert all(float(v).is_integer() for v in counts), counts


def test_difficulty_bars_are_the_fractions_with_their_percentages(perceptron):
    """Is each question's bar as tall as its mean fraction on the chart's 0..1 axis, coloured
    by difficulty, under its question id and labelled with the rounded percentage?"""
    rows = [(2, 1, 0, 4), (2, 0, 0, 3), (2, 1, 0.5, 0)]
    results = [_result(perceptron, f"s{i}", r) for i, r in enumerate(rows)]
    ctx = class_context(results, perceptron)
    fractions = [d["fraction"] for d in ctx["difficulty"]]
    assert fractions == pytest.approx([1.0, 1 / 3, 1 / 12, 7 / 12])
    root = _charts(results, perceptron)["difficulty"]
    y0, per_unit = _axis(root, "end", "y")
    bars = sorted(_bars(root), key=lambda b: b["x"])
    assert [b["height"] / -per_unit for b in bars] == pytest.approx(fractions, abs=2e-3)
    assert [b["fill"] for b in bars] == [_difficulty_color(f) for f in fractions]
    assert len({b["fill"] for b in bars}) == 3
    values = sorted(_of(root, "text", "value"), key=lambda t: float(t.get("x")))
    assert [t.text for t in values] == ["100%", "33%", "8%", "58%"]
    for bar, text in zip(bars, values):
        assert float(text.get("x")) == pytest.approx(bar["x"] + bar["width"] / 2, abs=0.1)
        assert float(text.get("y")) < bar["y"]           # above its bar
    names = [t.text for t in _of(root, "text", "tick") if t.get("text-anchor") == "middle"]
    assert names == ["q1", "q2", "q3", "q4"]
    assert "mean score / possible" in _texts(root)


def test_status_bars_show_the_counts_in_the_language(perceptron):
    """Does the runs chart draw one bar per status, as tall as its count on an integer axis,
    in the status' colour, labelled with the count and the status' name in the report's
    language (Spanish here)?"""
    statuses = ["ok"] * 7 + ["timeout"] * 2 + ["invalid"]
    results = [_result(perceptron, f"s{i}", (0, 0, 0, 0), s) for i, s in enumerate(statuses)]
    root = _charts(results, perceptron, "es")["statuses"]
    y0, per_count = _axis(root, "end", "y")
    bars = sorted(_bars(root), key=lambda b: b["x"])
    assert [b["height"] / -per_count for b in bars] == pytest.approx([7, 2, 1], abs=0.01)
    assert [b["fill"] for b in bars] == [STATUS_COLORS[s] for s in ("ok", "timeout",
                                                                     "invalid")]
    assert [t.text for t in sorted(_of(root, "text", "value"),
                                   key=lambda t: float(t.get("x")))] == ["7", "2", "1"]
    es = labels("es")
    names = [t.text for t in _of(root, "text", "tick") if t.get("text-anchor") == "middle"]
    assert names == ["ok", es["status_timeout"], es["status_invalid"]]
    assert "timeout" not in names and es["plot_submissions"] in _texts(root)
    counts = [t.text for t in _of(root, "text", "tick") if t.get("text-anchor") == "end"]
    assert len(counts) >= 3 and all(float(v).is_integer() for v in counts), counts


def test_mistakes_chart_shows_the_eight_most_common_by_id(perceptron):
    """Does the mistakes chart list at most eight mistake ids, the most common on top, each
    bar as long as its count, and no chart at all when no one made a named mistake?"""
    ids = [f"m{k}" for k in range(10)]
    results = [_result(perceptron, f"s{i}", (0, 0, 0, 0), mistakes=ids[:10 - i])
               for i in range(10)]             # m0 in 10 submissions, m1 in 9, ... m9 in 1
    root = _charts(results, perceptron)["mistakes"]
    names = [t.text for t in sorted(_of(root, "text", "name"), key=lambda t: float(t.get("y")))]
    assert names == ids[:8]
    bars = sorted(_bars(root), key=lambda b: b["y"])
    assert [b["width"] / bars[0]["width"] for b in bars] == pytest.approx(
        [(10 - k) / 10 for k in range(8)], abs=1e-3)
    assert [t.text for t in sorted(_of(root, "text", "value"),
                                   key=lambda t: float(t.get("y")))] == \
        [str(10 - k) for k in range(8)]
    x0, per_count = _axis(root, "middle", "x")
    assert bars[0]["width"] / per_count == pytest.approx(10, abs=0.01)
    assert labels("en")["plot_mistakes"] in _texts(root)
    clean = [_result(perceptron, "s", (2, 2, 2, 4))]
    assert "mistakes" not in _charts(clean, perceptron)


def test_data_text_is_escaped(perceptron):
    """A mistake id or a status from the data that looks like markup is shown as text: the
    SVG parses and carries no element of its own making."""
    hostile = '<i id="x">&amp;\'</i>'
    results = [_result(perceptron, "s", (1, 0, 0, 0), mistakes=(hostile,))]
    ctx = class_context(results, perceptron)
    svgs = class_charts(results, perceptron, ctx["difficulty"], {hostile: 1, "ok": 2},
                        ctx["mistakes"])
    for name in ("statuses", "mistakes"):
        assert '<i id="x">' not in svgs[name]
        root = ElementTree.fromstring(svgs[name])
        assert {e.tag for e in root.iter()} <= {SVG + t for t in ("svg", "rect", "line", "text")}
        assert hostile in _texts(root)


def _sane(root):
    """The chart is wide enough to read, and every coordinate is a finite number inside it."""
    width, height = float(root.get("width")), float(root.get("height"))
    assert 700 <= width <= 800 and 100 < height < 800
    for e in root.iter():
        for k in ("x", "y", "width", "height", "x1", "x2", "y1", "y2"):
            if e.get(k) is not None and e.tag != SVG + "svg":
                value = float(e.get(k))
                assert -1e-6 <= value <= max(width, height) + 1e-6, (e.tag, k, value)


def test_edge_cases_draw_sane_charts(perceptron):
    """Do the charts come out readable (and the report renders) for one submission, all
    totals equal, an assignment worth 0 points, no results, and many statuses?"""
    one = [_result(perceptron, "s", (2, 1, 0, 0))]
    equal = [_result(perceptron, f"s{i}", (2, 2, 2, 4)) for i in range(4)]
    for results in (one, equal):
        roots = _charts(results, perceptron)
        assert set(roots) == {"distribution", "difficulty", "statuses"}
        for root in roots.values():
            _sane(root)
    (bar,) = _bars(_charts(equal, perceptron)["distribution"])
    (line,) = _of(_charts(equal, perceptron)["distribution"], "line", "mean")
    assert float(line.get("x1")) == pytest.approx(bar["x"] + bar["width"], abs=0.01)

    worthless = dataclasses.replace(perceptron, questions=tuple(
        dataclasses.replace(q, points=0.0) for q in perceptron.questions))
    assert worthless.possible == 0
    rows = [_result(worthless, "s", (0, 0, 0, 0))]
    roots = _charts(rows, worthless)
    for root in roots.values():
        _sane(root)
    assert "total points (of 1)" in _texts(roots["distribution"])

    assert class_context([], perceptron)["plots"] == {}
    empty = class_charts([], perceptron, [], {}, [])
    assert set(empty) == {"distribution", "difficulty", "statuses"}
    for svg in empty.values():
        root = ElementTree.fromstring(svg)
        _sane(root)
        assert not _bars(root) and not _of(root, "line", "mean")

    es = labels("es")
    many = {s: k + 1 for k, s in enumerate(["ok", "timeout", "oom", "crashed", "invalid",
                                            "internal-error", "grader-killed",
                                            "variant-mismatch", "something-new"])}
    ctx = class_context(one, perceptron, "es")
    root = ElementTree.fromstring(class_charts(one, perceptron, ctx["difficulty"], many, [],
                                               "es")["statuses"])
    _sane(root)
    assert len(_bars(root)) == 9
    shown = _texts(root, "tick")
    assert [es.get(f"status_{s}", s) for s in many] == [s for s in shown
                                                         if not s.isdigit()]


def test_ticks_are_round_and_cover_the_range():
    """Are the axis ticks 0, then round steps (1, 2 or 5 times a power of ten; no fraction
    on an integer axis), up to the first at or above the largest value, a handful of them?"""
    for upper in (0.3, 1, 3, 7, 9, 10, 12, 37, 85, 101, 999, 1e6):
        for integer in (False, True):
            values = charts.ticks(upper, integer=integer)
            step = values[1] - values[0]
            assert values[0] == 0 and values[-1] >= upper - 1e-9 and values[-2] < upper
            assert 2 <= len(values) <= 8, (upper, values)
            assert all(b - a == pytest.approx(step) for a, b in zip(values, values[1:]))
            if integer:
                assert all(float(v).is_integer() for v in values), (upper, values)
    assert charts.ticks(0) == charts.ticks(1) and charts.ticks(float("nan")) == charts.ticks(1)


def test_rendering_the_class_report_does_not_import_matplotlib(perceptron, tmp_path):
    """Is the class report (and the feedback pages) written without importing matplotlib, the
    half second a batch this module's SVG charts save?"""
    rows = [(2, 1, 0, 4), (0, 0, 0, 0), (2, 2, 2, 1)]
    results = [_result(perceptron, f"s{i}.ipynb", r, mistakes=("m",) * i).to_dict()
               for i, r in enumerate(rows)]
    (tmp_path / "results.json").write_text(json.dumps(results))
    code = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from neurograde.judge import SubmissionResult
        from neurograde.report import write_reports
        from neurograde.spec import load_assignment
        rows = json.loads(Path({str(tmp_path / "results.json")!r}).read_text())
        results = [SubmissionResult.from_dict(r) for r in rows]
        write_reports(results, load_assignment("perceptron"), Path({str(tmp_path / "out")!r}))
        print("matplotlib" in sys.modules, "matplotlib.pyplot" in sys.modules)
    """)
    proc = subprocess.run(["/opt/neurograde/venv/bin/python", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "False"]
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count('src="data:image/svg+xml;base64,') == 4
    # The check can fail: importing matplotlib in the same script is seen.
    seen = subprocess.run(["/opt/neurograde/venv/bin/python", "-c",
                           code.replace("import json, sys", "import json, sys, matplotlib")],
                          capture_output=True, text=True, timeout=120)
    assert seen.stdout.split() == ["True", "False"], seen.stderr[-2000:]
