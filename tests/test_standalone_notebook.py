"""The released notebook works alone (issue 11, part 3): copied by itself into an empty folder
and run in a real kernel of this venv, its first cell installs nothing (everything is there;
pip is pointed at no index, so an install attempt would fail the run), its public checks come
from its own metadata and pass with the reference pasted in, the files it hands out
(cifar10.py) appear beside it, and its export cell writes a zip that `neurograde grade`
grades like the notebook. A simulated Colab (no notebook file, google.colab answering with
the notebook) gets the same checks from tests/ written by the first cell and a downloaded
zip."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbclient
import nbformat
import pytest

from neurograde.batch import BatchOptions, grade_batch
from neurograde.release import NB_META_KEY, _strings, fill_notebook, release, solution_source
from neurograde.spec import LANGUAGES, ROOT, known_slugs, load_assignment

SLUGS = known_slugs()
SHARED_DATA = ROOT.parent / "shared" / "datasets"
CHECKPOINT = ROOT / "assignments" / "autoencoder" / "files" / "autoencoder.pt"


@pytest.fixture
def offline_kernel_env(monkeypatch):
    """The kernel inherits this: pip can reach no index, CIFAR-10 is where a student put it."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("NEUROGRADE_DATA", str(SHARED_DATA))
    monkeypatch.delenv("NEUROGRADE_GRADING", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)


def _answered(slug: str, lang: str, tmp_path: Path):
    """The released notebook (as written to the student folder) with the reference pasted in."""
    assignment = load_assignment(slug)
    rel = release(assignment, tmp_path / "release", lang)
    nb = nbformat.read(str(rel.notebook), as_version=4)
    sources = {q: solution_source(assignment, q, assignment.reference)
               for q in assignment.question_ids}
    return assignment, rel, fill_notebook(nb, sources)


def _cells(nb, role: str) -> list:
    return [c for c in nb.cells if c.get("metadata", {}).get(NB_META_KEY, {}).get("role") == role]


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [str(v) for k, v in out.get("data", {}).items() if k.startswith("text/")]
        parts += out.get("traceback", [])
    return "\n".join(parts)


def _run(nb, folder: Path) -> None:
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()


def _grade(assignment, zip_path: Path, out: Path):
    summary = grade_batch(assignment, [zip_path], out,
                          BatchOptions(jobs=1, timeout=300, quiet=True, reports=False,
                                       self_check=False))
    [row] = summary.results
    return row


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_the_notebook_alone_runs_its_checks_and_its_export_grades(slug, tmp_path, box,
                                                                  offline_kernel_env):
    """Alone in an empty folder (beside it only the checkpoint a student trains for the
    autoencoder): installs nothing, every public check passes from the notebook's own
    metadata (no tests/ folder is needed or written), handed-out files are written, and the
    export cell's zip gets full marks from neurograde grade."""
    lang = LANGUAGES[SLUGS.index(slug) % len(LANGUAGES)]
    assignment, rel, nb = _answered(slug, lang, tmp_path)
    work = tmp_path / "alone"
    work.mkdir()
    nbformat.write(nb, str(work / rel.notebook.name))
    if slug == "autoencoder":
        shutil.copy(CHECKPOINT, work / "autoencoder.pt")
    _run(nb, work)
    [init] = _cells(nb, "init")
    assert _strings(lang)["installing"] not in _text(init), _text(init)
    checks = _cells(nb, "check")
    assert len(checks) == len(assignment.questions)
    for cell in checks:
        assert "All test cases passed" in _text(cell), f"{cell.source}: {_text(cell)[:1500]}"
    assert not (work / "tests").exists()
    for rel_path in assignment.student_files:
        name = Path(rel_path).name
        assert (work / name).read_text() == (rel.student_dir / name).read_text()
    [exported] = list(work.glob(f"{slug}_*.zip"))
    with zipfile.ZipFile(exported) as zf:
        names = set(zf.namelist())
    assert {f"{slug}.ipynb", *assignment.extra.get("submit_files", [])} <= names
    row = _grade(assignment, exported, tmp_path / "out")
    assert (row.status, row.total) == ("ok", assignment.possible), row.message


def test_checks_come_from_the_notebook_even_beside_another_assignments_tests(
        tmp_path, offline_kernel_env):
    """A tests/ folder left by another assignment (a downloads folder) is not used: the
    notebook's own checks run and pass."""
    _, rel, nb = _answered("perceptron", "en", tmp_path)
    work = tmp_path / "downloads"
    (work / "tests").mkdir(parents=True)
    for q in ("q1", "q2", "q3", "q4"):
        (work / "tests" / f"{q}.py").write_text(
            "from otter.test_files import test_case\nOK_FORMAT = False\n"
            f"name = {q!r}\npoints = 1\n\n@test_case(points=1)\ndef test_other(env):\n"
            "    assert False, 'the checks of another assignment'\n")
    nbformat.write(nb, str(work / "perceptron.ipynb"))
    (work / "other.ipynb").write_text(json.dumps(nbformat.v4.new_notebook()))
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get(NB_META_KEY, {}).get("role")
                != "export"]
    _run(nb, work)
    for cell in _cells(nb, "check"):
        assert "All test cases passed" in _text(cell), _text(cell)[:1500]


def test_a_failed_install_says_what_to_install(tmp_path, offline_kernel_env):
    """A package that is missing and cannot be installed (no index here) stops the first cell
    with a message in the notebook's language naming the pip command to run by hand."""
    _, rel, nb = _answered("perceptron", "es", tmp_path)
    [init] = _cells(nb, "init")
    init.source = init.source.replace("('numpy', 'numpy>=1.26')",
                                      "('neurograde_absent', 'neurograde-absent==1.0')")
    assert "neurograde-absent" in init.source
    work = tmp_path / "laptop"
    work.mkdir()
    nbformat.write(nb, str(work / "perceptron.ipynb"))
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        _run(nb, work)
    said = _text(init)
    assert "No se pudo instalar neurograde-absent==1.0" in said
    assert "pip install neurograde-absent==1.0" in said


COLAB_STUB = '''
import json, sys, types
_nb = json.load(open({path!r}, encoding="utf-8"))
_colab = types.ModuleType("google.colab")
_colab._message = types.ModuleType("google.colab._message")
_colab._message.blocking_request = lambda kind, timeout_sec=None, **kw: {{"ipynb": _nb}}
_colab.files = types.ModuleType("google.colab.files")
DOWNLOADED = []
_colab.files.download = DOWNLOADED.append
_google = sys.modules.get("google") or types.ModuleType("google")
_google.colab = _colab
sys.modules.update({{"google": _google, "google.colab": _colab,
                    "google.colab._message": _colab._message,
                    "google.colab.files": _colab.files}})
type(get_ipython()).__str__ = lambda self: "<google.colab._shell.Shell object>"
'''


@pytest.mark.slow
def test_on_a_simulated_colab_checks_and_export_work(tmp_path, box, offline_kernel_env):
    """Colab: no notebook file in the working folder; google.colab hands out the notebook as
    the browser holds it. The first cell writes its public checks to tests/ (otter reads no
    metadata tests on Colab), every check passes, and the export cell builds the zip and
    downloads it instead of otter's export (unavailable on Colab); neurograde grades it."""
    assignment, rel, nb = _answered("perceptron", "pt", tmp_path)
    held = tmp_path / "browser.ipynb"  # what Colab's frontend returns, outside /content
    nbformat.write(nb, str(held))
    content = tmp_path / "content"
    content.mkdir()
    nb.cells.insert(0, nbformat.v4.new_code_cell(COLAB_STUB.format(path=str(held))))
    nb.cells.append(nbformat.v4.new_code_cell(
        'assert DOWNLOADED == ["perceptron_submission.zip"], DOWNLOADED'))
    _run(nb, content)
    for cell in _cells(nb, "check"):
        assert "All test cases passed" in _text(cell), _text(cell)[:1500]
    tests = {p.stem: p.read_text() for p in (content / "tests").glob("*.py")}
    assert tests == nb.metadata["otter"]["tests"]
    zip_path = content / "perceptron_submission.zip"
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.namelist() == ["perceptron.ipynb"]
    row = _grade(assignment, zip_path, tmp_path / "out")
    assert (row.status, row.total) == ("ok", assignment.possible), row.message


def test_export_without_a_file_to_submit_says_so_and_writes_no_zip(tmp_path,
                                                                   offline_kernel_env):
    """An export cell asking for a file that is not there (the autoencoder's checkpoint
    before training) stops with a message in the notebook's language naming the file, and
    leaves no half-written zip to submit by mistake."""
    _, rel, nb = _answered("perceptron", "pt", tmp_path)
    [export] = _cells(nb, "export")
    export.source = export.source.replace("pdf=False", "pdf=False, files=['autoencoder.pt']")
    work = tmp_path / "laptop"
    work.mkdir()
    nbformat.write(nb, str(work / "perceptron.ipynb"))
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        _run(nb, work)
    assert "autoencoder.pt não está nesta pasta" in _text(export)
    assert list(work.glob("*.zip")) == []
