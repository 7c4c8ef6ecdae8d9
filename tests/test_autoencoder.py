"""The autoencoder assignment on real CIFAR-10 data: the reference and the bundled examples grade
as they should through the real pipeline and sandbox, known mistakes are named, a checkpoint
holding a pickled object is refused with a clear message, the files agree with each other, and
one submission grades within the time budget.

Needs the CIFAR-10 copy at ../shared/datasets/cifar10/cifar10-jpeg.zip (or $NEUROGRADE_DATA):
without it these tests fail, they never skip.
"""

import ast
import csv
import io
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from assignment_grading import feedback, grade, mistake_rounds, named, notebook_with_mistakes
from neurograde import checklib
from neurograde.data.cifar10 import find_cifar10
from neurograde.examples import _extra_files_hook, write_examples, write_reference_submission
from neurograde.i18n import say_in
from neurograde.judge import _run_probe, expectations
from neurograde.probe import make_plan
from neurograde.spec import ROOT, _load_module, load_assignment

SLUG = "autoencoder"
FILES = ROOT / "assignments" / SLUG / "files"
# One submission on 2 cores takes a few seconds (README.md); this bound only catches a
# regression by an order of magnitude on a loaded CI machine.
GRADING_SECONDS_BOUND = 120


@pytest.fixture(scope="module")
def assignment():
    # Fail loudly, naming where the data was looked for, rather than skipping.
    find_cifar10()
    return load_assignment(SLUG)


def _folder(notebook: Path, checkpoint: Path) -> Path:
    """A submission folder: the notebook plus autoencoder.pt."""
    folder = notebook.with_suffix("")
    folder.mkdir(parents=True)
    shutil.move(str(notebook), folder / f"{SLUG}.ipynb")
    shutil.copy(checkpoint, folder / "autoencoder.pt")
    return folder


def _question(result, qid):
    return next(q for q in result.questions if q.id == qid)


def test_examples_reference_and_refused_checkpoint(assignment, tmp_path, box):
    """Through grade_batch in the sandbox: the correct example (reference code and checkpoint)
    gets full marks with no cell error; partly_wrong (three known mistakes and a checkpoint
    trained for a few hundred steps) gets partial credit with the mistakes named; broken gets
    0 without crashing; the reference notebook with a checkpoint that pickles a custom object
    keeps full marks on q1-q6 and gets 0 on q7 with a message saying the file was refused."""
    paths = write_examples(assignment, tmp_path / "examples")
    refused = write_reference_submission(assignment, tmp_path / "refused")
    _extra_files_hook(assignment)("broken", refused)  # autoencoder.pt -> a pickled object
    started = time.monotonic()
    results = grade(assignment, [*paths, refused], tmp_path / "out")
    wall = time.monotonic() - started
    correct, partly, broken = (results[f"{SLUG}-{k}"] for k in ("correct", "partly_wrong",
                                                                 "broken"))
    for result in results.values():
        print(f"{result.submission}: {result.total:g}/{result.possible:g} in "
              f"{result.seconds:.1f} s ({result.sandbox})")
    print(f"batch of {len(results)} with 4 jobs: {wall:.1f} s wall clock")

    assert correct.status == "ok" and not correct.cell_errors, correct.message
    assert correct.total == pytest.approx(assignment.possible, abs=1e-9), feedback(correct)

    assert partly.status == "ok", partly.message
    assert 0 < partly.total < assignment.possible
    assert {"decoder-without-sigmoid", "noise-without-clamp", "pca-not-centred"} <= named(partly)
    q7 = _question(partly, "q7")
    assert 0 < q7.score < q7.possible, q7.feedback  # weakly trained: some credit, not all

    assert broken.status == "ok" and broken.total == 0
    assert "SyntaxError" in broken.message and "RuntimeError" in broken.message

    assert results["refused"].status == "ok"
    for q in results["refused"].questions:
        if q.id != "q7":
            assert q.score == pytest.approx(q.possible, abs=1e-9), (q.id, q.feedback)
    q7 = _question(results["refused"], "q7")
    assert q7.score == 0
    assert all("autoencoder.pt was refused: it holds a pickled object" in f and
               "TrainingRun" in f and "weights_only=True" in f for f in q7.feedback), q7.feedback
    assert correct.seconds < GRADING_SECONDS_BOUND


def test_one_submission_grading_time(assignment, tmp_path, box):
    """`neurograde grade` on the correct example alone, in a fresh process (loading CIFAR-10,
    fitting the PCA baseline, the reference's and the known mistakes' outputs, the sandbox
    run, the reports): full marks; the wall-clock time is printed (about 8 s on an idle
    2-core machine, see README.md) and only bounded generously."""
    correct = write_reference_submission(assignment, tmp_path / "one")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "neurograde", "grade", "--assignment", SLUG,
                           str(correct), "--out", str(tmp_path / "out"), "--jobs", "1"],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    wall = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = next(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    print(f"one submission through neurograde grade: {wall:.1f} s wall clock, "
          f"{row['total']}/{row['possible']}")
    assert float(row["total"]) == pytest.approx(assignment.possible, abs=1e-9), row
    assert wall < 3 * GRADING_SECONDS_BOUND


def test_known_mistakes_are_named_in_feedback(assignment, tmp_path, box):
    """Each known mistake, pasted into the reference notebook (submitted with the reference
    checkpoint), loses points on its own question only, and the feedback names it; every
    mistake is named at least once. A wrong add_noise alone costs question 3 only: the
    train_epoch that calls it keeps question 4's points (add_noise stands in there with the
    course's noisy batches)."""
    checkpoint = FILES / "autoencoder.pt"
    rounds = mistake_rounds(assignment)
    by_id = {m.id: m for m in assignment.mistakes}
    rounds.append({"q3": by_id["noise-without-clamp"]})  # train_epoch right, add_noise wrong
    paths = [_folder(notebook_with_mistakes(assignment, r, tmp_path / "subs" / f"round{k}.ipynb"),
                     checkpoint) for k, r in enumerate(rounds)]
    results = grade(assignment, paths, tmp_path / "out")
    seen = set()
    for k, chosen in enumerate(rounds):
        result = results[f"round{k}"]
        assert result.status == "ok", result.message
        text = feedback(result)
        for q in result.questions:
            mistake = chosen.get(q.id)
            if mistake is None:
                assert q.score == pytest.approx(q.possible, abs=1e-9), (k, q.id, q.feedback)
                continue
            assert q.score < q.possible, (mistake.id, "lost no points")
            assert f"likely mistake: {mistake.text('en')}" in text, (mistake.id, text)
        seen |= named(result)
    assert seen == {m.id for m in assignment.mistakes}


def test_every_train_epoch_check_ends_on_a_smaller_batch(assignment):
    """In every train_epoch check the batch size does not divide the images, so a mean of the
    batch losses that does not weight them by batch size gives another number (and is
    named)."""
    plan = make_plan(assignment, None)
    checks = [p for p in plan.checks if p.check.probe == "train_epoch"]
    assert len(checks) == 4
    for planned in checks:
        inputs = planned.inputs
        assert len(inputs["images"]) % inputs["batch_size"], planned.check.name


def test_every_mistake_differs_from_the_reference_for_other_seeds(assignment):
    """For the assignment's seed (the release's and the grader's) and two others, each known
    mistake's output differs from the reference's beyond the tolerance on some check of its
    question."""
    for seed in (None, 1, 2):
        variants = expectations(make_plan(assignment, seed)).variants
        caught = {m.id for found in variants.values() for m, _ in found}
        missed = [m.id for m in assignment.mistakes if m.id not in caught]
        assert not missed, f"seed {seed}: no check tells these mistakes apart: {missed}"


def test_reference_passes_every_check_and_feedback_picture(assignment):
    """In-process, for several seeds: the reference (with its checkpoint) passes every judged
    check at full marks with a margin, and the public reconstruction check's outputs render
    as a PNG of originals over reconstructions."""
    judges = assignment.judges
    feedback_module = _load_module(assignment.folder / "feedback.py", "neurograde_ae_feedback")
    ref = vars(assignment.reference)
    for seed in (None, 7):
        plan = make_plan(assignment, seed)
        for planned in plan.all_checks:
            if not planned.check.judge:
                continue
            outputs = _run_probe(plan, planned, ref)
            fraction, messages = getattr(judges, planned.check.judge)(planned.inputs, outputs,
                                                                      outputs)
            assert fraction == 1.0, (planned.check.name, messages)
            if planned.check.probe == "checkpoint_reconstruction" and not planned.check.hidden:
                png = feedback_module.feedback_png(planned.inputs, outputs)
                _assert_grid(png, planned.inputs["images"], outputs["shown"], feedback_module)


def _assert_grid(png, originals, shown, module):
    """The picture is the originals above their reconstructions, each image scaled up by
    whole pixels, on white."""
    from PIL import Image
    grid = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    shown = np.asarray(shown)
    n, side, gap = len(shown), 32 * module.SCALE, module.GAP
    assert n >= 4 and grid.shape == (gap + 2 * (side + gap), gap + n * (side + gap), 3)
    for row, images in enumerate((np.asarray(originals)[:n], shown)):
        for col in range(n):
            top, left = gap + row * (side + gap), gap + col * (side + gap)
            cell = grid[top:top + side, left:left + side]
            assert np.array_equal(cell[::module.SCALE, ::module.SCALE], images[col])
            assert np.array_equal(cell, np.kron(images[col], np.ones((module.SCALE,
                                                                      module.SCALE, 1),
                                                                     dtype=np.uint8)))
    assert (grid[:gap] == 255).all() and (grid[:, :gap] == 255).all()
    assert not np.array_equal(grid[gap:gap + side], grid[2 * gap + side:2 * gap + 2 * side])


def test_refusals_say_what_is_wrong(assignment, tmp_path, monkeypatch):
    """The checkpoint loader refuses a pickled model, a dict with non-tensor values, weights
    of another shape and integer tensors, each with a message that says what to save
    instead."""
    ref = assignment.reference
    probes = assignment.probes
    monkeypatch.chdir(tmp_path)
    model = ref.Autoencoder(64)
    cases = {
        "pickled object": ({"model": model}, "it holds a pickled object"),
        "extra entries": ({"state": model.state_dict(), "epoch": 3}, "it must be a state_dict"),
        "other shape": (ref.Autoencoder(32).state_dict(), "does not fit Autoencoder("),
        "integer tensors": ({k: v.to(torch.int32) for k, v in model.state_dict().items()},
                            "not dense floating-point tensors"),
    }
    for name, (content, expected) in cases.items():
        torch.save(content, "autoencoder.pt")
        with pytest.raises(checklib.WrongReturn) as info:
            probes.load_checkpoint({"Autoencoder": ref.Autoencoder})
        text = say_in("en", info.value.message, assignment)
        assert expected in text and "state_dict" in text, name
    Path("autoencoder.pt").unlink()
    with pytest.raises(checklib.WrongReturn) as info:
        probes.load_checkpoint({"Autoencoder": ref.Autoencoder})
    assert "autoencoder.pt not found" in say_in("en", info.value.message, assignment)


def _assigned_numbers(source: str, names) -> dict:
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in names:
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def test_training_script_notebook_and_docs_agree(assignment):
    """The training script uses the notebook's question-7 constants, the thresholds printed in
    the notebook text (all languages) and in README.md are those of judges.py, and the
    committed checkpoints are plain state_dicts of Autoencoder(64) of a few MB."""
    names = ("EPOCHS", "BATCH_SIZE", "LEARNING_RATE", "NOISE_STD")
    notebook = _assigned_numbers(assignment.stub_sections()["q7"], names)
    script = _assigned_numbers((ROOT / "scripts" / "train_autoencoder_reference.py").read_text(),
                               names)
    assert notebook == script and len(notebook) == len(names)
    j = assignment.judges
    readme = (assignment.folder / "README.md").read_text()
    numbers = [f"{j.RECON_FULL_RATIO:.1f}", f"{j.RECON_ZERO_RATIO:.1f}",
               f"{j.DENOISE_FULL_GAIN:.1f}", f"{j.DENOISE_ZERO_GAIN:.1f}",
               f"{j.PROBE_FULL_ACCURACY:.0%}".replace("%", ""),
               f"{j.PROBE_ZERO_ACCURACY:.0%}".replace("%", "")]
    for lang in ("en", "es", "pt"):
        q7 = assignment.text_sections(lang)["q7"]
        for number in numbers:
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", q7), (lang, number)
    for number in numbers:
        assert number in readme, number
    for name in ("autoencoder.pt", "autoencoder-weak.pt"):
        path = FILES / name
        assert path.stat().st_size < 4_000_000, name
        state = torch.load(path, weights_only=True)
        model = assignment.reference.Autoencoder(64)
        model.load_state_dict(state)


def test_notebook_trains_and_shows_results_with_data(assignment, tmp_path, monkeypatch):
    """The released notebook, reference pasted in, run top to bottom in a real kernel with the
    data found through $NEUROGRADE_DATA: with TRAIN = True (one short epoch) it trains, saves a
    plain state_dict autoencoder.pt, and prints the comparison with PCA, the denoising and the
    linear classifier; the public checks of q1-q6 pass."""
    import nbclient
    import nbformat
    from neurograde.release import release

    rel = release(assignment, tmp_path / "release", "en")
    work = tmp_path / "student"
    shutil.copytree(rel.student_dir, work)
    sub = write_reference_submission(assignment, tmp_path / "sub")
    nb = nbformat.read(str(next(sub.glob("*.ipynb"))), as_version=4)
    setup = next(c for c in nb.cells if c.get("metadata", {}).get("neurograde", {})
                 .get("role") == "setup")
    q7 = next(c for c in nb.cells if c.get("metadata", {}).get("neurograde", {})
              .get("question") == "q7" and c.get("metadata", {}).get("neurograde", {})
              .get("role") == "stub")
    assert "TRAIN = False" in setup.source and "EPOCHS = " in q7.source
    setup.source = setup.source.replace("TRAIN = False", "TRAIN = True")
    q7.source = re.sub(r"EPOCHS = \d+", "EPOCHS = 1", q7.source)
    assert 'split="train")[0]' in q7.source
    q7.source = q7.source.replace('split="train")[0]', 'split="train", limit=1024)[0]')
    data_root = find_cifar10().parent.parent  # the folder holding cifar10/
    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    monkeypatch.setenv("NEUROGRADE_DATA", str(data_root))  # the kernel inherits it
    client.execute()
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "epoch 1/1: training MSE" in text
    assert re.search(r"test MSE: your autoencoder 0\.\d+, PCA with 64 components 0\.\d+", text)
    assert "linear classifier on the codes" in text and "after your autoencoder" in text
    state = torch.load(work / "autoencoder.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    images = [o for c in nb.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the reconstructions figure was not drawn"
    checks = [c for c in nb.cells
              if c.get("metadata", {}).get("neurograde", {}).get("role") == "check"]
    for cell in checks[:6]:
        outputs = "\n".join(str(o.get("data", {}).get("text/plain", o.get("text", "")))
                            for o in cell.get("outputs", []))
        assert "All test cases passed" in outputs or "passed" in outputs, outputs[:1500]


def test_feedback_page_shows_originals_and_reconstructions(tmp_path, box):
    """Does the student's feedback page carry the originals-vs-reconstructions picture,
    drawn from a public check only?"""
    import base64
    from neurograde.batch import BatchOptions, grade_batch
    from neurograde.examples import write_reference_submission
    from neurograde.spec import load_assignment
    assignment = load_assignment("autoencoder")
    sub = write_reference_submission(assignment, tmp_path / "ref", "en")
    summary = grade_batch(assignment, [sub], tmp_path / "out",
                          BatchOptions(jobs=1, timeout=300, quiet=True))
    result = summary.results[0]
    images = result.extra.get("images", [])
    assert images, "no picture in the result"
    public = {c.name for c in assignment.checks if not c.hidden}
    assert all(img["check"] in public for img in images)
    assert base64.b64decode(images[0]["png"]).startswith(b"\x89PNG")
    page = (tmp_path / "out" / "feedback" / f"{result.submission}.html").read_text()
    assert "data:image/png;base64," + images[0]["png"][:40] in page
    # The caption says which row is which, in the page's language.
    import tomllib
    from neurograde.report import TEMPLATES, write_reports
    labels = tomllib.loads((TEMPLATES / "report_i18n.toml").read_text())
    assert labels["en"]["image_rows"] in page
    for lang in ("es", "pt"):
        write_reports([result], assignment, tmp_path / lang, lang=lang)
        translated = (tmp_path / lang / "feedback" / f"{result.submission}.html").read_text()
        assert labels[lang]["image_rows"] in translated
        assert labels["en"]["image_rows"] not in translated
