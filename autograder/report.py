"""Stage 5: reports — a feedback page per student and a class report, as self-contained HTML.

Both are rendered from gradebook results with the jinja2 templates in templates/ and carry
their plots inline (SVG written as text, see charts.py), so a page can be mailed or uploaded
as one file.

What a feedback page shows: score per question, each check's name, whether it is public or
hidden, its points and status, the judge's feedback (public checks: measured error and
tolerance, shapes, the exception and the student's own line; hidden checks: only the kind of
problem, see feedback.py), the named mistake, the notebook's cell errors (a few lines each) and
a plot of points per question. What it never shows: inputs of hidden checks or expected values
(the results hold neither), and the notebook's captured stdout — a student's function may print
the hidden inputs it is called with, so that text (a bounded tail) stays in the instructor's
results/*.json.

Pages are only rewritten when their content would change: each carries a fingerprint of its
result, the templates and this module, so re-running a batch of 1,000 does not redraw 1,000
plots.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import jinja2

from . import charts, i18n, timing
from .checklib import say
from .feedback import cap_cell_errors
from .gradebook import atomic_write
from .judge import CheckResult, SubmissionResult, where_message
from .messages import render
from .spec import ROOT, Assignment

TEMPLATES = ROOT / "templates"
FINGERPRINT_TAG = '<meta name="neurograde-fingerprint" content="{}">'
COLORS = {"passed": "#2e7d32", "partial": "#f9a825", "failed": "#c62828"}
STATUS_COLORS = {"ok": "#2e7d32", "timeout": "#ef6c00", "oom": "#6a1b9a", "crashed": "#c62828",
                 "invalid": "#5d4037", "internal-error": "#455a64"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals["points"] = points
    return env


@lru_cache(maxsize=1)
def _labels_all() -> dict:
    return tomllib.loads((TEMPLATES / "report_i18n.toml").read_text(encoding="utf-8"))


def labels(lang: str) -> dict:
    table = _labels_all()
    return {**table["en"], **table.get(lang, {})}


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update((Path(__file__).parent / "feedback.py").read_bytes())
    for name in ("feedback.html.j2", "report.html.j2", "_style.html.j2", "report_i18n.toml"):
        digest.update((TEMPLATES / name).read_bytes())
    return digest.hexdigest()


# -- plots -------------------------------------------------------------------------------------

def question_plot(result: SubmissionResult) -> str:
    """Points per question as horizontal bars (an inline SVG image, charts.shares)."""
    return charts.data_uri(charts.shares([
        (q.id, q.score / q.possible if q.possible else 0.0, COLORS.get(q.status, "#757575"),
         f"{points(q.score)} / {points(q.possible)}") for q in result.questions]))


def class_plots(results: list[SubmissionResult], assignment: Assignment,
                difficulty: list[dict], statuses: dict, mistakes: list[dict],
                lang: str = "en") -> dict:
    """The class report's plots as inline SVG images, their words in lang."""
    svgs = class_charts(results, assignment, difficulty, statuses, mistakes, lang)
    return {name: charts.data_uri(svg) for name, svg in svgs.items()}


def class_charts(results: list[SubmissionResult], assignment: Assignment,
                 difficulty: list[dict], statuses: dict, mistakes: list[dict],
                 lang: str = "en") -> dict:
    """The class report's charts as SVG text (labels, legend and status names in lang):
    distribution of totals, mean fraction per question, how runs ended, and (when any)
    the most common named mistakes."""
    t = labels(lang)
    totals = [r.total for r in results]
    possible = float(assignment.possible) or 1.0
    mean = statistics.fmean(totals) if totals else None
    plots = {"distribution": charts.histogram(
        totals, possible, int(min(20, max(possible, 1))), "#1565c0",
        t["plot_total"].format(possible=f"{possible:g}"), t["plot_submissions"], mean,
        t["plot_mean"].format(mean=f"{mean:.2f}") if totals else "", "#c62828")}
    fractions = [d["fraction"] for d in difficulty]
    plots["difficulty"] = charts.columns(
        [d["id"] for d in difficulty], fractions, [_difficulty_color(m) for m in fractions],
        t["plot_fraction"], [f"{100 * m:.0f}%" for m in fractions], charts.ticks(1.0))
    counts = list(statuses.values())
    plots["statuses"] = charts.columns(
        [t.get(f"status_{n}", n) for n in statuses], counts,
        [STATUS_COLORS.get(n, "#757575") for n in statuses], t["plot_submissions"],
        [str(c) for c in counts], charts.ticks(max(counts + [1]), integer=True), 3)
    if mistakes:
        # Ids as labels: the full texts would squeeze the bars; the table below has them.
        top = mistakes[:8]
        plots["mistakes"] = charts.bars([m["id"] for m in top], [m["count"] for m in top],
                                        "#8e24aa", t["plot_mistakes"])
    return plots


def _difficulty_color(fraction: float) -> str:
    return COLORS["passed"] if fraction >= 0.75 else COLORS["partial"] if fraction >= 0.4 \
        else COLORS["failed"]


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


# -- feedback page -------------------------------------------------------------------------



def points(value: float) -> str:
    """A score as shown to people: at most two decimals, no trailing zeros (1.79304 -> 1.79)."""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _check_view(check: CheckResult, mistake_texts: dict, catalog, lang: str,
                assignment: Assignment) -> dict:
    if check.messages or not check.feedback:
        lines = [render(m, catalog) for m in check.messages]
    else:  # a result stored before messages were kept: English lines with their label
        label = f"{'hidden' if check.hidden else 'public'} check '{check.name}': "
        lines = [line[len(label):] if line.startswith(label) else line
                 for line in check.feedback
                 if not (check.mistake and line.startswith("likely mistake:"))]
    status = "partial" if check.status == "failed" and check.score > 0 else check.status
    return {"name": i18n.check_name(check.name, lang, assignment),
            "hidden": check.hidden, "points": check.points,
            "score": check.score, "status": status, "lines": lines,
            "mistake": mistake_texts.get(check.mistake) if check.mistake else None}


def feedback_context(result: SubmissionResult, assignment: Assignment, lang: str) -> dict:
    mistake_texts = {m.id: m.text(lang) for m in assignment.mistakes}
    catalog = i18n.catalog(lang, assignment)
    questions = []
    for q in result.questions:
        checks = [_check_view(c, mistake_texts, catalog, lang, assignment) for c in result.checks
                  if c.question == q.id]
        mistakes = list(dict.fromkeys(c["mistake"] for c in checks if c["mistake"]))
        common = [render(say("status.not-graded"), catalog) if line == "not graded" else line
                  for line in q.feedback] if not checks else []
        if len(checks) > 1 and checks[0]["lines"] and \
                all(c["lines"] == checks[0]["lines"] for c in checks):
            # One cause for every check (not run, function missing): say it once.
            common = checks[0]["lines"]
            checks = [{**c, "lines": []} for c in checks]
        questions.append({"id": q.id, "score": q.score, "possible": q.possible,
                          "status": q.status, "checks": checks, "mistakes": mistakes,
                          "lines": common})
    # Capped again here: results stored by earlier versions kept cell errors in full.
    capped, unshown = cap_cell_errors(result.cell_errors)
    errors = [{"number": e.get("number"), "type": e.get("type") or "Error",
               "message": e.get("message") or "",
               "where": render(where_message(e.get("where")), catalog) if e.get("where") else ""}
              for e in capped]
    unshown += int(result.extra.get("cell_errors_not_shown", 0) or 0)
    return {"t": labels(lang), "lang": lang, "result": result, "questions": questions,
            "title": assignment.title.get(lang) or assignment.title.get("en") or
            assignment.slug, "cell_errors": errors, "cell_errors_not_shown": unshown,
            "stopped": (render(result.extra["notice"], catalog) if result.extra.get("notice")
                        else result.message) if result.status != "ok" else "",
            # The plot helps where a student has some points but not all: it shows where
            # the rest went. At 0 or full marks the cards say everything.
            "plot": question_plot(result) if 0 < result.total < result.possible else None,
            "status_word": lambda status: labels(lang).get(f"status_{status}", status),
            "has_hidden": any(c.hidden for c in result.checks),
            "images": [{"caption": i18n.check_name(img.get("check", ""), lang, assignment),
                        "src": "data:image/png;base64," + img["png"]}
                       for img in result.extra.get("images", ()) if "png" in img]}


def render_feedback(result: SubmissionResult, assignment: Assignment, lang: str = "en",
                    fingerprint: str | None = None) -> str:
    """The page; fingerprint: _fingerprint(result, lang), when the caller has it already."""
    page = _env().get_template("feedback.html.j2").render(
        **feedback_context(result, assignment, lang))
    return _stamp(page, fingerprint or _fingerprint(result, lang))


def _fingerprint(result: SubmissionResult, lang: str) -> str:
    data = json.dumps(result.to_dict(), sort_keys=True) + lang + _code_fingerprint()
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def _stamp(page: str, fingerprint: str) -> str:
    return page.replace("<head>", "<head>\n" + FINGERPRINT_TAG.format(fingerprint), 1)


def _current_fingerprint(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(600)
    except OSError:
        return None
    marker = '<meta name="neurograde-fingerprint" content="'
    start = head.find(marker)
    return head[start + len(marker):].split('"', 1)[0] if start >= 0 else None


# -- class report --------------------------------------------------------------------------

def class_context(results: list[SubmissionResult], assignment: Assignment,
                  lang: str = "en") -> dict:
    totals = [r.total for r in results]
    difficulty = []
    for q in assignment.questions:
        scores = [s.score for r in results for s in r.questions if s.id == q.id]
        mean = statistics.fmean(scores) if scores else 0.0
        difficulty.append({"id": q.id, "points": q.points, "mean": mean,
                           "fraction": mean / q.points if q.points else 0.0,
                           "full": sum(s >= q.points - 1e-9 for s in scores),
                           "zero": sum(s <= 1e-9 for s in scores)})
    statuses = dict(sorted(Counter(r.status for r in results).items(),
                           key=lambda kv: (kv[0] != "ok", -kv[1], kv[0])))
    texts = {m.id: m.text(lang) for m in assignment.mistakes}
    per_mistake = Counter(m for r in results for m in {c.mistake for c in r.checks if c.mistake})
    mistakes = [{"id": k, "text": texts.get(k, k), "count": n}
                for k, n in sorted(per_mistake.items(), key=lambda kv: (-kv[1], kv[0]))]
    rows = [{"name": r.submission, "link": "feedback/" + quote(r.submission) + ".html",
             "scores": {q.id: q.score for q in r.questions}, "total": r.total,
             "status": r.status, "message": _shorten(message_in(r, lang, assignment), 160)}
            for r in results]
    summary = {"count": len(results), "possible": assignment.possible,
               "mean": statistics.fmean(totals) if totals else 0.0,
               "median": statistics.median(totals) if totals else 0.0,
               "stdev": statistics.pstdev(totals) if totals else 0.0,
               "full": sum(t >= assignment.possible - 1e-9 for t in totals),
               "not_ok": sum(r.status != "ok" for r in results)}
    return {"title": assignment.title.get(lang) or assignment.title.get("en") or assignment.slug,
            "slug": assignment.slug, "lang": lang, "t": labels(lang),
            "question_ids": assignment.question_ids, "summary": summary,
            "difficulty": difficulty, "statuses": statuses, "mistakes": mistakes,
            "rows": rows, "versions": sorted({r.version for r in results}),
            "status_word": lambda status: labels(lang).get(f"status_{status}", status),
            "plots": class_plots(results, assignment, difficulty, statuses, mistakes, lang)
            if results else {}}


def message_in(result: SubmissionResult, lang: str, assignment: Assignment | str) -> str:
    """The one-line message of a gradebook row (why a run ended, cell errors) in lang.

    English is the stored instructor message as it is (it can carry details such as the
    grader's own exception). Other languages are worded from the structured parts: the run's
    notices, the cell errors (Python's own type and message stay as Python wrote them), and
    for a grader failure where its details are; a row stored without notices keeps its text.
    """
    if lang == "en":
        return result.message
    t = labels(lang)
    parts = []
    if result.extra.get("notice"):
        parts.append(render(result.extra["notice"], i18n.catalog(lang, assignment)))
        if result.status in ("internal-error", "grader-killed"):
            parts.append(t["class_see_results"].format(name=result.submission))
    if result.extra.get("variant_flag"):
        parts.append(str(result.extra["variant_flag"]))
    for err in result.cell_errors[:3]:
        text = str(err.get("message") or "").strip().splitlines()
        parts.append(f"{t['cell']} {err.get('number')}: {err.get('type') or 'Error'}"
                     + (f": {text[0]}" if text else ""))
    return "; ".join(parts) if parts else result.message


def render_report(results: list[SubmissionResult], assignment: Assignment,
                  lang: str = "en") -> str:
    return _env().get_template("report.html.j2").render(
        **class_context(results, assignment, lang))


def page_language(result: SubmissionResult, lang: str | None) -> str:
    """The language of a student's page: --lang when given, else the notebook's own."""
    return lang or result.extra.get("lang") or "en"


def class_language(results: list[SubmissionResult], lang: str | None) -> str:
    """The class report's language: --lang when given, else the class's most common one."""
    if lang:
        return lang
    counts = Counter(page_language(r, None) for r in results)
    return min(counts, key=lambda k: (-counts[k], k)) if counts else "en"


def write_reports(results: list[SubmissionResult], assignment: Assignment, out_dir: Path,
                  lang: str | None = None) -> int:
    """Write OUT/feedback/<name>.html (only those that changed) and OUT/report.html.

    lang None: each page in its notebook's language. Pages are rendered from the stored
    results, so a change of language rewrites them without grading again. Returns how many
    feedback pages were (re)written.
    """
    out_dir = Path(out_dir)
    folder = out_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for result in results:
        path = folder / f"{result.submission}.html"
        page_lang = page_language(result, lang)
        fingerprint = _fingerprint(result, page_lang)
        if _current_fingerprint(path) == fingerprint:
            continue
        with timing.stage(result.submission, "feedback page"):
            atomic_write(path, render_feedback(result, assignment, page_lang, fingerprint))
        written += 1
    with timing.stage(None, "class report"):
        atomic_write(out_dir / "report.html",
                     render_report(results, assignment, class_language(results, lang)))
    return written

