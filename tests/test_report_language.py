"""The class report and the grade command's terminal summaries in the chosen language."""

import dataclasses
import re
import tomllib
from xml.etree import ElementTree

import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.checklib import say
from neurograde.report import TEMPLATES, class_charts, class_context, render_report
from classroom import cli, write_class
from conftest import notebook_with

LANGS = ("es", "pt")


def _english_phrases(path) -> set[str]:
    """Every run of 2+ words in the [en] table of a label file, placeholders cut out."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))["en"]
    phrases = set()
    for value in table.values():
        for part in re.split(r"\{[^}]*\}", value):
            part = part.strip(" ·:;,.()")
            if len(re.findall(r"[A-Za-z]+", part)) >= 2:
                phrases.add(part)
    return phrases


def _visible(html: str) -> str:
    """What a reader sees: text outside tags and the images' alt texts (no CSS, no data)."""
    html = re.sub(r"<(style|script)>.*?</\1>", " ", html, flags=re.S)
    alts = " ".join(re.findall(r'alt="([^"]*)"', html))
    return re.sub(r"<[^>]+>", " ", html) + " " + alts


def _found(phrases: set[str], text: str) -> list[str]:
    return sorted(p for p in phrases
                  if re.search(r"(?<![A-Za-z])" + re.escape(p) + r"(?![A-Za-z])", text, re.I))


def _svg_texts(svg: str) -> str:
    """Every text a chart shows: its axis labels, tick labels, legend and bar labels."""
    texts = ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")
    return " | ".join("".join(t.itertext()) for t in texts)


@pytest.fixture(scope="module")
def results(tmp_path_factory, perceptron):
    """A graded class with every kind of row: full marks, named mistakes, cell errors, an
    unreadable file, a timeout, and a grader failure."""
    base = tmp_path_factory.mktemp("class-lang")
    subs = base / "subs"
    write_class(perceptron, subs, 5)
    notebook_with(["while True:\n    pass"], subs / "spinner.ipynb")
    summary = grade_batch(perceptron, [subs], base / "out",
                          BatchOptions(jobs=2, timeout=4, quiet=True))
    graded = list(summary.results)
    boom = dataclasses.replace(
        graded[0], submission="boom.ipynb", status="internal-error", total=0.0,
        message="the grader failed on this submission: ValueError: boom",
        extra={"notice": [say("status.internal-error")]})
    return graded + [boom]


@pytest.mark.parametrize("lang", LANGS)
def test_class_report_has_no_english_ui_text(results, perceptron, lang):
    """Does the class report in es / pt show none of the English report's phrases (headings,
    cards, captions, table headers, status names, run messages), while the English report
    shows them (so the check can fail)?"""
    phrases = _english_phrases(TEMPLATES / "report_i18n.toml")
    assert {r.status for r in results} >= {"ok", "timeout", "invalid", "internal-error"}
    english = _visible(render_report(results, perceptron, "en"))
    shown = _found(phrases, english)
    assert len(shown) >= 15 and "did not finish normally" in shown, shown
    page = render_report(results, perceptron, lang)
    assert f'<html lang="{lang}">' in page
    text = _visible(page)
    assert not _found(phrases, text), _found(phrases, text)
    # The runs' own messages are worded in lang too (the timeout, the grader failure).
    for words in ("stopped after", "wall-clock", "not graded", "grader failed", "cell errors"):
        assert words not in text, words
    labels = tomllib.loads((TEMPLATES / "report_i18n.toml").read_text())[lang]
    assert labels["status_timeout"] in text and labels["class_not_ok"] in text


@pytest.mark.parametrize("lang", LANGS)
def test_class_plots_are_labelled_in_the_language(results, perceptron, lang):
    """Are the class plots' axis labels, legend and status names in es / pt, not English?"""
    phrases = _english_phrases(TEMPLATES / "report_i18n.toml")
    labels = tomllib.loads((TEMPLATES / "report_i18n.toml").read_text())[lang]

    def texts(language):
        ctx = class_context(results, perceptron, language)
        charts = class_charts(results, perceptron, ctx["difficulty"], ctx["statuses"],
                              ctx["mistakes"], language)
        assert set(charts) == {"distribution", "difficulty", "statuses", "mistakes"}
        return " | ".join(_svg_texts(svg) for svg in charts.values())
    assert _found(phrases, texts("en")), "the English plots must show English labels"
    shown = texts(lang)
    assert not _found(phrases, shown), _found(phrases, shown)
    assert labels["plot_submissions"] in shown and labels["status_timeout"] in shown
    assert labels["plot_mean"].split(" {")[0] in shown
    assert labels["plot_fraction"] in shown and labels["plot_mistakes"] in shown
    assert labels["plot_total"].format(possible=f"{perceptron.possible:g}") in shown


def test_grade_command_prints_its_summary_in_spanish(tmp_path, perceptron):
    """Does `neurograde grade --lang es` print its progress, self-check note, table header,
    status names and final summary in Spanish, and the same command without --lang in
    English?"""
    subs = tmp_path / "subs"
    write_class(perceptron, subs, 2, kinds=("correct", "garbage"))
    out = tmp_path / "out"
    proc = cli("grade", "--assignment", "perceptron", subs, "--out", out, "--jobs", "1",
               "--timeout", "60", "--lang", "es")
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout + proc.stderr
    cli_en = _english_phrases(TEMPLATES / "cli_i18n.toml")
    assert not _found(cli_en, printed), _found(cli_en, printed)
    for word in ("graded", "unchanged", "report:", "gradebook:", "submission", "self-check"):
        assert word not in printed, word
    assert "corrigiendo 2 entrega(s) de perceptron" in proc.stderr
    assert "autochequeo superado" in proc.stderr
    assert "páginas de devolución" in proc.stderr
    header = proc.stdout.splitlines()[0].split()
    assert header[:2] == ["entrega", "tarea"] and header[-3:] == ["total", "estado", "mensaje"]
    assert "inválido" in proc.stdout and "no es un notebook de Jupyter legible" in proc.stdout
    assert "libro de calificaciones:" in proc.stdout and "2 corregidas" in proc.stdout

    again = cli("grade", "--assignment", "perceptron", subs, "--out", out, "--jobs", "1",
                "--timeout", "60")
    assert again.returncode == 0, again.stderr
    # (how many are regraded depends only on whether the grader's sources changed meanwhile)
    assert re.search(r"\(\d graded, \d unchanged\); report: ", again.stdout), again.stdout
    assert again.stdout.splitlines()[0].split()[:2] == ["submission", "assignment"]
