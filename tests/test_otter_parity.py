"""One grade everywhere: the released otter zip (`otter run`, as Gradescope runs it) and
`neurograde grade` give every bundled example submission the same score, question by question,
to 1e-9, in every assignment; they draw the same hidden inputs (also per student, with
variants); and the release lists, in autograder/parity.json, exactly the cases where they may
disagree (EXCEPTIONS below).

The examples: autograder/examples.py (the reference, a partly wrong notebook with known
mistakes, a broken one), the untouched student notebook, and where judges give partial credit
a notebook whose judged checks earn part of their points (PARTIAL), so that otter's partial
credit is compared. Each assignment is released in one of the three languages in turn.

`otter run` costs 3-8 s per notebook (the autoencoder 10-20 s); two run at a time. The
autoencoder needs CIFAR-10 (../shared/datasets or $NEUROGRADE_DATA): without it its test fails.
"""

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from assignment_grading import notebook_with_mistakes
from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.examples import _extra_files_hook, write_examples, write_reference_submission
from neurograde.exports import Student
from neurograde.handout import PARITY_FILE
from neurograde.probe import make_plan
from neurograde.release import build_notebook, release, release_roster
from neurograde.spec import LANGUAGES, known_slugs, load_assignment
from neurograde.variants import VariantGrading, tag_for

OTTER = Path(sys.executable).with_name("otter")
SLUGS = known_slugs()
TOLERANCE = 1e-9
# Where exact parity is impossible (autograder/handout.py explains each case). Every release
# must list exactly these. The examples run well within the limits and define each function
# once, so "limits" and "check-position" never apply to them.
EVERYWHERE = {"limits": [], "check-position": []}
EXCEPTIONS = {"autoencoder": {**EVERYWHERE,
                              "parent-only": ["q7.p1", "q7.h1", "q7.h2", "q7.h3"]}}
# "parent-only": the autoencoder's q7 checks read the submitted checkpoint; in the otter zip
# with the notebook's own Autoencoder class, in neurograde with the prescribed one. They agree
# when the notebook's class is the prescribed one, i.e. when its question q1 earns full marks;
# otherwise (the partly wrong example: a decoder without its sigmoid) q7 is not compared.
PREMISE = {"autoencoder": {"q7": "q1"}}
SECRET = b"course-secret-for-parity-0123456789"


def _lang(slug: str) -> str:
    return LANGUAGES[SLUGS.index(slug) % len(LANGUAGES)]


def _zip_cases(zip_path: Path) -> dict[str, list[dict]]:
    """question id -> the cases (probe, inputs, expected, ...) of its otter test file."""
    cases = {}
    with zipfile.ZipFile(zip_path) as zf:
        for name in zf.namelist():
            if name.startswith("tests/") and name.endswith(".py"):
                module = ast.parse(zf.read(name).decode())
                value = next(node.value for node in module.body if isinstance(node, ast.Assign)
                             and getattr(node.targets[0], "id", None) == "_CASES")
                cases[Path(name).stem] = [json.loads(c) for c in ast.literal_eval(value)]
    return cases


def _assert_same_inputs(zip_path: Path, plan) -> None:
    """Every check of the zip has the inputs of the grader's plan (hidden ones included)."""
    cases = _zip_cases(zip_path)
    for qid in plan.assignment.question_ids:
        planned = [p for p in plan.all_checks if p.check.question == qid]
        assert len(cases[qid]) == len(planned), qid
        for case, p in zip(cases[qid], planned):
            same = json.dumps(case["inputs"], sort_keys=True) == \
                json.dumps(checklib.encode(p.inputs), sort_keys=True)
            assert same, f"{p.id}: the zip's inputs differ from the grader's"


def _otter_scores(zip_path: Path, submission: Path, work: Path) -> dict[str, float]:
    """question id -> score from `otter run -a zip`, as results.json (Gradescope) has it."""
    notebook = submission if submission.suffix == ".ipynb" else next(submission.glob("*.ipynb"))
    work.mkdir(parents=True)
    # A folder submission (notebook + checkpoint) goes in as a zip of its files, the way
    # Gradescope receives a multi-file upload.
    target = notebook if submission.suffix == ".ipynb" else \
        Path(shutil.make_archive(str(work / "submission"), "zip", submission))
    proc = subprocess.run([str(OTTER), "run", "-a", str(zip_path), "-o", str(work),
                           str(target)], capture_output=True, text=True, timeout=900,
                          cwd=notebook.parent)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((work / "results.json").read_text())
    return {t["name"]: t["score"] for t in results["tests"] if "max_score" in t}


def _otter_all(zip_path: Path, submissions: list[Path], work: Path) -> dict[str, dict]:
    stems = [s.name.removesuffix(".ipynb") for s in submissions]
    with ThreadPoolExecutor(max_workers=2) as pool:
        scores = pool.map(lambda pair: _otter_scores(zip_path, pair[0], work / pair[1]),
                          zip(submissions, stems))
        return dict(zip(stems, scores))


def _assert_same_scores(assignment, ours: dict, otters: dict) -> None:
    """Equal per question and in total, leaving out a question whose PREMISE fails."""
    premise = PREMISE.get(assignment.slug, {})
    for stem, result in ours.items():
        theirs, score = otters[stem], {q.id: q for q in result.questions}
        assert set(theirs) == set(assignment.question_ids), (stem, theirs)
        compared = [q for q in assignment.question_ids if q not in premise
                    or score[premise[q]].score == score[premise[q]].possible]
        differ = {q: (score[q].score, theirs[q]) for q in compared
                  if abs(score[q].score - theirs[q]) > TOLERANCE}
        assert not differ, f"{stem}: neurograde vs otter per question: {differ}"
        total = sum(score[q].score for q in compared)
        assert abs(total - sum(theirs[q] for q in compared)) <= TOLERANCE, stem
        if len(compared) == len(assignment.question_ids):
            assert abs(result.total - sum(theirs.values())) <= TOLERANCE, stem


def _backprop_partial(assignment, target: Path, lang: str) -> Path:
    """Without tanh's derivative in backward, the gradient check (a quarter of its points per
    parameter) passes dW2 and db2 only."""
    mistake = next(m for m in assignment.mistakes if m.id == "backward-no-tanh-derivative")
    return notebook_with_mistakes(assignment, {"q3": mistake}, target.with_suffix(".ipynb"),
                                  lang)


def _autoencoder_partial(assignment, target: Path, lang: str) -> Path:
    """The reference notebook with the briefly trained checkpoint: q7's judges give part of
    their points (a continuous fraction, rounded by checklib.awarded on both sides)."""
    folder = write_reference_submission(assignment, target, lang)
    _extra_files_hook(assignment)("partly_wrong", folder)
    return folder


# Notebooks whose judged checks earn part of their points, so that otter's partial credit is
# compared (the examples of the other assignments earn all or nothing on judged checks).
PARTIAL = {"backprop": _backprop_partial, "autoencoder": _autoencoder_partial}


def _submissions(assignment, folder: Path, lang: str) -> list[Path]:
    subs = write_examples(assignment, folder, lang)
    stub = folder / f"{assignment.slug}-stub.ipynb"
    nbformat.write(build_notebook(assignment, lang), str(stub))
    subs.append(stub)
    if assignment.slug in PARTIAL:
        subs.append(PARTIAL[assignment.slug](assignment, folder / f"{assignment.slug}-partial",
                                             lang))
    return subs


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_otter_zip_and_neurograde_give_every_example_the_same_score(slug, tmp_path, box):
    """For each example submission: the same score per question and in total (to 1e-9) from
    `otter run` with the released zip and from grade_batch (a question whose PREMISE fails
    left out); the zip holds the grader's hidden inputs; parity.json lists exactly this
    assignment's known exceptions; the PARTIAL notebook does earn part of a judged check's
    points (so partial credit is compared)."""
    assignment, lang = load_assignment(slug), _lang(slug)
    rel = release(assignment, tmp_path / "release", lang)
    parity = json.loads((rel.autograder_zip.parent / PARITY_FILE).read_text())
    assert {d["id"]: d["checks"] for d in parity["differences"]} == \
        EXCEPTIONS.get(slug, EVERYWHERE)
    _assert_same_inputs(rel.autograder_zip, make_plan(assignment))  # as grade_batch plans

    subs = _submissions(assignment, tmp_path / "subs", lang)
    summary = grade_batch(assignment, subs, tmp_path / "grades",
                          BatchOptions(jobs=2, timeout=300, quiet=True, reports=False,
                                       self_check=False))
    ours = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    assert all(r.status == "ok" for r in ours.values()), {k: r.message for k, r in ours.items()}
    if slug in PARTIAL:
        partly = [c for c in ours[f"{slug}-partial"].checks
                  if c.status == "failed" and 0 < c.score < c.points]
        assert partly, f"{slug}-partial no longer earns partial credit: change PARTIAL"
    _assert_same_scores(assignment, ours, _otter_all(rel.autograder_zip, subs, tmp_path / "otter"))


@pytest.mark.slow
def test_per_student_zip_and_neurograde_grade_the_same_variant(tmp_path, box):
    """With per-student variants (release --roster, grade --roster --secret-file): the
    student's own zip holds the hidden inputs the grader draws for that student, and gives
    the reference pasted into the student's notebook, and a partly wrong one, the grader's
    scores."""
    assignment = load_assignment("perceptron")
    student = Student("S001", "Ana", "ana@uni.edu")
    (rel,) = release_roster(assignment, tmp_path / "release", "es", [student], SECRET)
    router = VariantGrading(assignment, SECRET, [student], [], lambda plan: plan, None)
    plan = router.grader(tag_for(SECRET, assignment, student.id).seed)
    assert plan.variant is not None
    _assert_same_inputs(rel.autograder_zip, plan)

    nb = nbformat.read(str(rel.notebook), as_version=4)
    mistake = assignment.mistakes[0]
    subs = [_in_notebook(assignment, nb, {}, tmp_path / "subs" / "S001-reference.ipynb"),
            _in_notebook(assignment, nb, {assignment.question_of(mistake.function).id: mistake},
                         tmp_path / "subs" / "S001-partly.ipynb")]
    roster = tmp_path / "roster.csv"
    roster.write_text("student id,name,email\nS001,Ana,ana@uni.edu\n")
    summary = grade_batch(assignment, subs, tmp_path / "grades",
                          BatchOptions(jobs=2, timeout=300, quiet=True, reports=False,
                                       self_check=False, roster=roster, secret=SECRET))
    ours = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    assert all(r.status == "ok" for r in ours.values()), {k: r.message for k, r in ours.items()}
    assert ours["S001-partly"].total < assignment.possible == ours["S001-reference"].total
    _assert_same_scores(assignment, ours, _otter_all(rel.autograder_zip, subs, tmp_path / "otter"))


def _in_notebook(assignment, nb, mistakes: dict, path: Path) -> Path:
    """The given (student's own) notebook with the reference pasted in, mistakes swapped in."""
    return notebook_with_mistakes(assignment, mistakes, path, nb=nb)
