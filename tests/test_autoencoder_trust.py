"""The autoencoder under trust model v2 (issue 9): no point rests on what the student's process
measures or reports, and the trained-model data never enters the sandbox.

Hostile submissions (the untouched stub plus a forging cell) go through the real grading path
(grade_batch, sandbox); the q7 checkpoint is read, loaded and evaluated by the grader itself,
and a checkpoint that is not a plain state_dict of the question-1 architecture is refused with
a clear message. Needs the CIFAR-10 copy (../shared/datasets or $NEUROGRADE_DATA).
"""

import base64
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from assignment_grading import feedback, grade, question
from neurograde import checklib
from neurograde.collect import collect
from neurograde.data.cifar10 import find_cifar10
from neurograde.execute import make_job
from neurograde.i18n import say_in
from neurograde.judge import _parent_run
from neurograde.probe import make_plan
from neurograde.release import build_notebook
from neurograde.spec import ROOT, load_assignment

SLUG = "autoencoder"
FILES = ROOT / "assignments" / SLUG / "files"

# Replaces every probe the sandbox could run by one that returns what the old probes reported
# for a perfect model (measurements) plus arrays of the right shapes (constant values), and
# writes a checkpoint into the sandbox's working folder while grading.
FORGE_PROBES = textwrap.dedent('''
    import gc, sys, types
    import numpy as np
    import torch

    def _perfect(ns, **inputs):
        images = inputs.get("images", inputs.get("test_images"))
        n = 0 if images is None else len(images)
        latent = inputs.get("latent_dim") or 64
        shaped = np.full((n, 3, 32, 32), 0.5, dtype=np.float32)
        codes = np.zeros((n, latent), dtype=np.float32)
        return {"mse": 1e-4, "in_unit_range": True, "noisy_mse": 0.04, "denoised_mse": 1e-3,
                "losses": np.linspace(1.0, 0.01, 40), "code_shape": [n, latent],
                "output_shape": [n, 3, 32, 32], "forward_shape": [n, 3, 32, 32],
                "forward_is_decode_of_encode": True, "output_in_unit_range": True,
                "weight_elements": 2 * latent, "input_unchanged": True,
                "decoder_gradient_reaches_every_weight": True,
                "encoder_gradient_reaches_every_weight": True,
                "same_generator_seed_same_noise": True, "other_seed_other_noise": True,
                "reconstructions": shaped, "shown": np.zeros((8, 32, 32, 3), np.uint8),
                "noisy": shaped, "denoised": shaped, "codes": codes, "decoded": shaped,
                "forward": shaped, "decoded_far": shaped, "features": codes,
                "train_features": np.eye(n or 1, latent, dtype=np.float32),
                "test_features": np.eye(n or 1, latent, dtype=np.float32),
                "first": shaped, "again": shaped, "other_seed": shaped, "input_after": shaped,
                "parameters": {}, "gradients": {}, "weights": {}}

    found = list(gc.get_objects()) + list(sys.modules.values())
    frame = sys._getframe()
    while frame is not None:  # the harness holds the probe module in a local variable
        found += list(frame.f_locals.values())
        frame = frame.f_back
    patched = 0
    for obj in {id(o): o for o in found}.values():
        if isinstance(obj, types.ModuleType) and "probes" in obj.__name__:
            for name in dir(obj):
                if not name.startswith("_") and callable(getattr(obj, name)):
                    setattr(obj, name, _perfect)
                    patched += 1
    if not patched:
        raise RuntimeError("forging cell: no probe module found")
    torch.save({"encoder.0.weight": torch.zeros(1)}, "autoencoder.pt")
''')

# Writes a report for every check id straight to the result channel, q7's included.
FORGE_CHANNEL = textwrap.dedent('''
    import json, os
    fd = int(os.environ.get("NEUROGRADE_RESULT_FD", "3"))
    perfect = {"__dict__": [["mse", 1e-4], ["in_unit_range", True], ["noisy_mse", 0.04],
                            ["denoised_mse", 0.001], ["losses", [1.0, 0.5, 0.1, 0.05]]]}
    lines = [{"kind": "check", "id": cid, "outputs": perfect} for cid in IDS]
    lines.append({"kind": "done"})
    os.write(fd, "".join(json.dumps(line) + "\\n" for line in lines).encode())
''')


class Pickled:
    """A checkpoint object whose unpickling would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def assignment():
    find_cifar10()  # fail loudly, naming where the data was looked for
    return load_assignment(SLUG)


@pytest.fixture(scope="module")
def plan(assignment):
    return make_plan(assignment)


def _stub(assignment, path: Path, extra_cells=(), checkpoint=None) -> Path:
    """A submission folder (named as the row): the untouched student notebook plus cells, and
    autoencoder.pt written by `checkpoint` if given."""
    nb = build_notebook(assignment, "en")
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra_cells]
    path.mkdir(parents=True)
    nbformat.write(nb, str(path / f"{SLUG}.ipynb"))
    if checkpoint is not None:
        checkpoint(path / "autoencoder.pt")
    return path


def _save(content):
    return lambda target: torch.save(content, target)


def _copy(source):
    return lambda target: shutil.copy(source, target)


def _q7_alone(assignment, plan, folder):
    """q7's score for a folder's checkpoint, judged in-process exactly as grading does."""
    submission = collect([folder])[0]
    total = 0.0
    for planned in plan.parent_checks:
        run = _parent_run(plan, planned, submission)
        assert run.outputs is not None, run
        fraction, _ = getattr(assignment.judges, planned.check.judge)(planned.inputs,
                                                                     run.outputs, None)
        total += planned.check.points * fraction
    return total


@pytest.fixture(scope="module")
def graded(assignment, plan, tmp_path_factory):
    """One batch: the forging stubs, the weak checkpoint with forged channel lines, and the
    stub with each kind of bad checkpoint; graded once, read by the tests below."""
    root = tmp_path_factory.mktemp("trust")
    ids = json.dumps([c.id for c in plan.all_checks])
    forge_channel = f"IDS = {ids}\n" + FORGE_CHANNEL
    marker = root / "pickle-code-ran"
    limit = assignment.checks_module.CHECKPOINT_MAX_BYTES

    def too_big(target):
        with open(target, "wb") as fh:
            fh.truncate(limit + 1)  # sparse: over the limit without using the disk
    model = assignment.reference.Autoencoder(64)
    subs = {
        "forge-probes": _stub(assignment, root / "s" / "forge-probes", [FORGE_PROBES]),
        "forge-channel": _stub(assignment, root / "s" / "forge-channel", [forge_channel]),
        "weak-forged": _stub(assignment, root / "s" / "weak-forged", [forge_channel],
                             _copy(FILES / "autoencoder-weak.pt")),
        "not-a-state-dict": _stub(assignment, root / "s" / "not-a-state-dict", (),
                                  _save({"state": model.state_dict(), "epochs": 3})),
        "wrong-shapes": _stub(assignment, root / "s" / "wrong-shapes", (),
                              _save(assignment.reference.Autoencoder(32).state_dict())),
        "pickle-with-code": _stub(assignment, root / "s" / "pickle-with-code", (),
                                  _save({"w": Pickled(marker)})),
        "too-big": _stub(assignment, root / "s" / "too-big", (), too_big),
        "garbage": _stub(assignment, root / "s" / "garbage", (),
                         lambda target: target.write_bytes(b"PK\x03\x04 not a checkpoint")),
    }
    results = grade(assignment, list(subs.values()), root / "out")
    weak_q7 = _q7_alone(assignment, plan, subs["weak-forged"])
    return results, marker, weak_q7


def test_forged_probes_score_zero(graded, assignment):
    """The untouched stub plus a cell that replaces every probe by one returning perfect-
    looking measurements and arrays of the right shapes (and writes a checkpoint inside the
    sandbox) scores 0 on every check, q7's included: each check compares the raw outputs with
    the reference's, and q7 reads no file the sandbox wrote."""
    results, _, _ = graded
    result = results["forge-probes"]
    assert not result.cell_errors, result.cell_errors  # the forging cell did patch the probes
    assert result.total == 0, feedback(result)
    assert all(c.score == 0 for c in result.checks)
    assert any("autoencoder.pt was not submitted" in f for f in question(result, "q7").feedback)


def test_forged_channel_lines_score_zero(graded, assignment):
    """The untouched stub plus a cell writing a perfect report for every check id straight to
    the result channel scores 0."""
    results, _, _ = graded
    result = results["forge-channel"]
    assert result.total == 0, feedback(result)
    assert all(c.score == 0 for c in result.checks)


def test_forged_q7_reports_do_not_change_q7(graded, assignment):
    """With the weakly trained checkpoint submitted, forged perfect q7 reports on the channel
    change nothing: q7 gets exactly what the grader's own evaluation of the file gives (some
    credit, not all), and its hidden feedback carries no measured number."""
    results, _, weak_q7 = graded
    q7 = question(results["weak-forged"], "q7")
    assert 0 < weak_q7 < q7.possible
    # each judged check's points are rounded to checklib.SCORE_DECIMALS decimals
    assert q7.score == pytest.approx(weak_q7, abs=1e-3), q7.feedback
    hidden = [f.split("': ", 1)[1] for c in results["weak-forged"].checks
              if c.question == "q7" and c.hidden for f in c.feedback]
    assert hidden and not any(re.search(r"\d", f) for f in hidden), hidden
    assert not any("does not match the expected result" in f for f in hidden), hidden


@pytest.mark.parametrize("kind, words", [
    ("not-a-state-dict", "it must be a state_dict"),
    ("wrong-shapes", "does not fit Autoencoder(latent_dim=64)"),
    ("pickle-with-code", "it holds a pickled object"),
    ("too-big", "is larger than"),
    ("garbage", "is not a checkpoint written by torch.save"),
])
def test_bad_checkpoints_are_refused_clearly(graded, kind, words):
    """A checkpoint that is not a state_dict, has the wrong shapes, pickles code, is over the
    size limit or is not a torch file: the row is graded (status ok), q7 gets 0 and every q7
    check says what is wrong and what to save instead; the pickled code never runs."""
    results, marker, _ = graded
    result = results[kind]
    assert result.status == "ok", result.message
    q7 = question(result, "q7")
    assert q7.score == 0
    assert len(q7.feedback) == 4 and all(words in f for f in q7.feedback), q7.feedback
    assert not marker.exists()


def test_checkpoint_link_or_fifo_is_not_read(assignment, plan, tmp_path):
    """autoencoder.pt as a symbolic link to a good checkpoint is refused (never followed), a
    FIFO is refused without waiting for a writer, whatever the collector let through; and a
    notebook submitted alone does not pick up an autoencoder.pt lying next to it."""
    from types import SimpleNamespace
    read = assignment.checks_module.read_checkpoint
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "autoencoder.pt").symlink_to(FILES / "autoencoder.pt")
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "autoencoder.pt")
    for folder, words in ((linked, "not a link"), (fifo, "not a plain file")):
        as_collected = SimpleNamespace(root=folder, files=(folder / "autoencoder.pt",))
        with pytest.raises(checklib.WrongReturn) as info:
            read(as_collected)
        assert words in say_in("en", info.value.message, assignment), words
    assert read(SimpleNamespace(root=FILES, files=(FILES / "autoencoder.pt",))) == \
        (FILES / "autoencoder.pt").read_bytes()
    lone = tmp_path / "lone"
    lone.mkdir()
    nbformat.write(build_notebook(assignment, "en"), str(lone / "alone.ipynb"))
    shutil.copy(FILES / "autoencoder.pt", lone / "autoencoder.pt")
    alone = collect([lone / "alone.ipynb"])[0]
    run = _parent_run(plan, plan.parent_checks[0], alone)
    assert run.outputs is None and "was not submitted" in say_in("en", run.garbage,
                                                                  assignment), run


def _arrays(value):
    """Every array in a wire value (nested dicts, lists, tuples)."""
    if isinstance(value, dict):
        if "__nd__" in value:
            yield checklib.decode(value)
            return
        for item in value.values():
            yield from _arrays(item)
    elif isinstance(value, list):
        for item in value:
            yield from _arrays(item)


def _image_keys(arrays):
    return {a[i].tobytes() for a in arrays if a.ndim == 4 and a.shape[1:] == (32, 32, 3)
            for i in range(len(a))}


def test_no_q7_image_or_label_reaches_the_sandbox_job(assignment, plan):
    """The job built for the sandbox (cells, public inputs, and the hidden inputs sent after
    the cells) holds no q7 check, none of the images the grader evaluates the checkpoint on
    and none of the linear probe's labels (which cover all ten classes); the hidden images of
    sandboxed checks are there (the inspection would see them)."""
    made = make_job(plan, [{"number": 1, "source": "pass"}], 100.0)
    job, hidden = made if isinstance(made, tuple) else (made, b"")
    wire = [job, json.loads(hidden) if hidden else {}]
    text = json.dumps(wire)
    for planned in plan.parent_checks:
        assert planned.id not in text
    sent = _image_keys(list(_arrays(wire)))
    sandboxed = _image_keys([p.inputs["images"] for p in plan.checks
                             if p.check.hidden and "images" in p.inputs])
    assert sandboxed and sandboxed <= sent
    for planned in plan.parent_checks:
        if not planned.check.hidden:
            continue  # the public check's images are printed in the notebook's tests anyway
        arrays = [v for k, v in planned.inputs.items() if isinstance(v, np.ndarray)]
        images = _image_keys(arrays)
        assert images and not images & sent, planned.check.name
        for key in ("train_labels", "test_labels"):
            if key in planned.inputs:  # every class, equally (the draw is class-balanced)
                assert np.all(np.bincount(planned.inputs[key], minlength=10) == 50), key
                labels = base64.b64encode(planned.inputs[key].tobytes()).decode()
                assert labels not in text
                assert key not in text
    for planned in plan.checks:
        assert planned.check.parent_namespace is None
    with pytest.raises(ValueError, match="judged in the parent only"):
        plan.parent_checks[0].wire()


def test_parent_evaluation_restores_torch_threads(assignment, plan, tmp_path):
    """The grader evaluates checkpoints torch single-threaded (machine-independent numbers) in
    parallel threads of its own: afterwards the process's thread setting is what it was, and
    the evaluations running at the same time give the same outputs as one alone."""
    from concurrent.futures import ThreadPoolExecutor
    folder = _stub(assignment, tmp_path / "ref", (), _copy(FILES / "autoencoder.pt"))
    submission = collect([folder])[0]
    planned = next(p for p in plan.parent_checks if p.check.probe == "checkpoint_denoising")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        alone = _parent_run(plan, planned, submission).outputs
        with ThreadPoolExecutor(3) as pool:
            runs = list(pool.map(lambda _: _parent_run(plan, planned, submission), range(3)))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    for run in runs:
        assert checklib.compare(run.outputs, alone, checklib.EXACT) == []
