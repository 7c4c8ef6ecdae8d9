"""Grading tests shared by tests/test_<slug>_grading.py: known mistakes are caught and named,
and the bundled examples grade as they should, through the real pipeline and sandbox.

Submissions are built from the assignment's own sources (autograder.release.build_notebook,
fill_notebook and solution_source with a mistake's variant renamed into place), so they are
exactly what a student who made that mistake would hand in. A test module uses them as

    from assignment_grading import GradingTests

    class TestGrading(GradingTests):
        slug = "gan"

MistakeAloneGradingTests adds a test grading each known mistake in a notebook of its own.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.examples import write_examples
from neurograde.judge import SubmissionResult, expectations
from neurograde.probe import make_plan
from neurograde.release import build_notebook, fill_notebook, solution_source
from neurograde.spec import Assignment, Mistake, load_assignment

# Hidden inputs come from the grading seed; a mistake must show whatever the seed is.
EXTRA_SEEDS = tuple(range(10))


def mistake_rounds(assignment: Assignment) -> list[dict[str, Mistake]]:
    """Round k holds the k-th known mistake of every question that has one, so that every
    mistake is in some round and no round has two mistakes in one question (a check's probe
    calls one question's functions, so mistakes of different questions cannot mask each
    other)."""
    by_question: dict[str, list[Mistake]] = {}
    for mistake in assignment.mistakes:
        question = assignment.question_of(mistake.function)
        by_question.setdefault(question.id, []).append(mistake)
    rounds = max((len(v) for v in by_question.values()), default=0)
    return [{qid: found[k] for qid, found in by_question.items() if k < len(found)}
            for k in range(rounds)]


def notebook_with_mistakes(assignment: Assignment, mistakes: dict[str, Mistake], path: Path,
                           lang: str = "en", nb=None) -> Path:
    """The student notebook (or the given one, e.g. a student's own release) with the
    reference pasted in and the given variants swapped in."""
    sources = {}
    for q in assignment.questions:
        mistake = mistakes.get(q.id)
        renames = {mistake.function: mistake.variant} if mistake else None
        sources[q.id] = solution_source(assignment, q.id, assignment.reference, renames)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(fill_notebook(nb if nb is not None else build_notebook(assignment, lang),
                                 sources), str(path))
    return path


def notebook_with_code(assignment: Assignment, sources: dict[str, str], path: Path,
                       lang: str = "en") -> Path:
    """The student notebook with the reference pasted in, except the given question cells."""
    filled = {q: solution_source(assignment, q, assignment.reference)
              for q in assignment.question_ids}
    filled.update(sources)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(fill_notebook(build_notebook(assignment, lang), filled), str(path))
    return path


def grade(assignment: Assignment, paths: list[Path], out: Path,
          lang: str | None = "en", reports: bool = False) -> dict[str, SubmissionResult]:
    summary = grade_batch(assignment, paths, out,
                          BatchOptions(jobs=4, timeout=300, quiet=True, force=True,
                                       reports=reports, lang=lang))
    # keyed by name: a notebook file's key is its file name (collect.py)
    return {r.submission.removesuffix(".ipynb"): r for r in summary.results}


def feedback(result: SubmissionResult) -> str:
    return "\n".join(f for q in result.questions for f in q.feedback)


def named(result: SubmissionResult) -> set[str]:
    return {c.mistake for c in result.checks if c.mistake}


def question(result: SubmissionResult, qid: str):
    """The result of question qid."""
    return next(q for q in result.questions if q.id == qid)


class GradingTests:
    """Mistake detection and example grading for one assignment; subclass with `slug`."""

    slug: str

    @pytest.fixture
    def assignment(self):
        return load_assignment(self.slug)

    def test_every_mistake_differs_from_the_reference_on_some_check(self, assignment):
        """For the assignment's seed (the release's and the grader's) and ten others, each
        known mistake's output differs from the reference's beyond the check's tolerance on
        at least one check of its question, so the judge can name it (its hidden inputs are
        built so that it shows, e.g. batch sizes that do not divide m, points where both
        densities vanish)."""
        for seed in (None, *EXTRA_SEEDS):
            variants = expectations(make_plan(assignment, seed)).variants
            caught = {m.id for found in variants.values() for m, _ in found}
            missed = [m.id for m in assignment.mistakes if m.id not in caught]
            assert not missed, f"seed {seed}: no check tells these mistakes apart: {missed}"

    def test_known_mistakes_are_named_in_feedback(self, assignment, tmp_path, box):
        """Graded through grade_batch, a notebook holding a known mistake loses points on that
        question and its feedback says "likely mistake: <the mistake's message>"; every
        known mistake (at least three per assignment) is named at least once, and the
        questions without a mistake keep full marks."""
        rounds = mistake_rounds(assignment)
        paths = [notebook_with_mistakes(assignment, r, tmp_path / "subs" / f"round{k}.ipynb")
                 for k, r in enumerate(rounds)]
        results = grade(assignment, paths, tmp_path / "out")
        seen = set()
        for k, chosen in enumerate(rounds):
            result = results[f"round{k}"]
            assert result.status == "ok", result.message
            text = feedback(result)
            for q in result.questions:
                if q.id not in chosen:
                    assert q.score == pytest.approx(q.possible, abs=1e-9), (q.id, q.feedback)
                    continue
                mistake = chosen[q.id]
                assert q.score < q.possible, (mistake.id, "lost no points")
                assert f"likely mistake: {mistake.text('en')}" in text, mistake.id
                assert mistake.id in named(result)
            seen |= named(result)
        assert len(seen) >= 3
        assert seen == {m.id for m in assignment.mistakes}

    def test_mistake_is_named_in_the_notebook_language(self, assignment, tmp_path, box):
        """A Spanish notebook graded without --lang: is each mistake named with its Spanish
        message on the feedback page (the English lines of the results stay English)?"""
        import html
        first = mistake_rounds(assignment)[0]
        path = notebook_with_mistakes(assignment, first, tmp_path / "es.ipynb", lang="es")
        result = grade(assignment, [path], tmp_path / "out", lang=None, reports=True)["es"]
        page = html.unescape((tmp_path / "out" / "feedback" / "es.ipynb.html").read_text())
        assert '<html lang="es">' in page
        for mistake in first.values():
            assert mistake.text("es") in page, mistake.id
            assert f"likely mistake: {mistake.text('en')}" in feedback(result), mistake.id

    def test_examples_grade_full_partial_and_zero(self, assignment, tmp_path, box):
        """The bundled examples (autograder.examples.write_examples) grade without crashing:
        correct = full marks, partly_wrong = some but not all points with a named mistake,
        broken (a SyntaxError cell and a cell raising at import) = 0 with a row, no crash and
        the cell errors reported."""
        paths = write_examples(assignment, tmp_path / "examples")
        results = grade(assignment, paths, tmp_path / "out")
        correct = results[f"{self.slug}-correct"]
        partly = results[f"{self.slug}-partly_wrong"]
        broken = results[f"{self.slug}-broken"]
        assert all(r.status == "ok" for r in (correct, partly, broken))
        assert correct.total == pytest.approx(assignment.possible, abs=1e-9), feedback(correct)
        assert 0 < partly.total < assignment.possible
        assert named(partly)
        assert broken.total == 0 and broken.cell_errors
        assert "SyntaxError" in broken.message and "RuntimeError" in broken.message


class MistakeAloneGradingTests(GradingTests):
    """GradingTests plus each known mistake graded alone; subclass with `slug` and, where a
    judge names a mistake in its own words too, `judge_words` (mistake id -> those words)."""

    judge_words: dict[str, str] = {}

    def test_every_known_mistake_is_named_in_the_feedback(self, assignment, tmp_path, box):
        """Each wrong variant of mistakes.py, pasted into an otherwise correct notebook, loses
        points on its own question only, and that question's feedback names it with its
        message; judges that recognize a mistake themselves (judge_words, e.g. glorot's
        statistical judges for the sampler mistakes) also name it in their own words."""
        paths = {}
        for m in assignment.mistakes:
            qid = assignment.question_of(m.function).id
            paths[m.id] = notebook_with_mistakes(assignment, {qid: m},
                                                 tmp_path / "subs" / f"{m.id}.ipynb")
        results = grade(assignment, list(paths.values()), tmp_path / "out")
        assert set(self.judge_words) <= set(paths)
        for mistake in assignment.mistakes:
            result = results[mistake.id]
            assert result.status == "ok", result.message
            qid = assignment.question_of(mistake.function).id
            for q in result.questions:
                assert (q.score < q.possible) == (q.id == qid), (mistake.id, q.id, q.feedback)
            text = "\n".join(question(result, qid).feedback)
            assert f"likely mistake: {mistake.text('en')}" in text, (mistake.id, text)
            assert mistake.id in named(result)
            if mistake.id in self.judge_words:
                assert self.judge_words[mistake.id] in text, (mistake.id, text)
