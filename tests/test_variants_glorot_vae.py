"""Per-student variants of glorot and vae: each student's notebook and public checks carry their
own numbers (layer sizes, X_demo and the depth/width of the experiment; tensor shapes, the demo
batch and beta), the canonical release keeps the seed's numbers, the reference pasted into a
student's own notebook scores full marks, and another student's notebook filed under one's
name is flagged and loses the check that recomputes a value from the notebook's own data."""

import csv
import shutil

import nbclient
import nbformat
import numpy as np
import pytest
import torch

from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.release import (build_notebook, fill_notebook, release_roster, solution_source,
                                write_otter_tests)
from neurograde.exports import Student
from neurograde.spec import LANGUAGES, load_assignment
from neurograde.variants import MISMATCH, tag_for

SECRET = b"course-secret-for-tests-0123456789"
SLUGS = ("glorot", "vae")
STUDENTS = [f"S{i:03d}" for i in range(1, 41)]

# What the seed notebooks' setup cells have always said; the canonical release keeps it.
CANONICAL_SETUP = {
    "glorot": "rng = np.random.default_rng(0)\nX_demo = rng.normal(size=(100, 1000))",
    "vae": "torch.manual_seed(0)\nx_demo = (torch.rand(4, 6) > 0.5).float()",
}
OWN_DATA_PROBE = {"glorot": "activation_variances_on_notebook_data",
                  "vae": "vae_loss_on_notebook_data"}


@pytest.fixture(scope="module", params=SLUGS)
def assignment(request):
    return load_assignment(request.param)


def _seed(assignment, student):
    return tag_for(SECRET, assignment, student).seed


def _setup_cell(nb):
    return next(c.source for c in nb.cells
                if c.metadata.get("neurograde", {}).get("role") == "setup")


def _public_inputs(assignment, student=None):
    variant = None if student is None else _seed(assignment, student)
    plan = make_plan(assignment, include_hidden=False, variant=variant)
    return {p.id: p.inputs for p in plan.checks}


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.array_equal(a, b)
    return a == b


def _answered(assignment, student, lang="en"):
    """The reference pasted into `student`'s own release notebook."""
    nb = build_notebook(assignment, lang, tag_for(SECRET, assignment, student))
    return fill_notebook(nb, {q: solution_source(assignment, q, assignment.reference)
                              for q in assignment.question_ids})


def _run_setup(source):
    namespace = {}
    exec(compile(source, "setup", "exec"), namespace)
    return namespace


# ---------------------------------------------------------------------------- numbers

def test_students_get_their_own_setup_cell_and_public_inputs(assignment):
    """Two students get different setup cells and different inputs on every public check that
    depends on the variant's numbers, deterministically; a release without a roster keeps the
    seed's setup cell."""
    a = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S001"))
    b = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S002"))
    again = build_notebook(assignment, "en", tag_for(SECRET, assignment, "S001"))
    assert _setup_cell(a) != _setup_cell(b)
    assert _setup_cell(a) == _setup_cell(again)
    assert CANONICAL_SETUP[assignment.slug] in _setup_cell(build_notebook(assignment, "en"))
    assert CANONICAL_SETUP[assignment.slug] not in _setup_cell(a)
    first, second = _public_inputs(assignment, "S001"), _public_inputs(assignment, "S002")
    assert first.keys() == second.keys() == _public_inputs(assignment).keys()
    differing = [cid for cid in first if not _same(first[cid], second[cid])]
    # Only the fixed ValueError cases (fans [0, 5], a 1-D X...) may coincide.
    same = [cid for cid in first if cid not in differing]
    names = {p.id: p.check.name for p in make_plan(assignment, include_hidden=False).checks}
    assert all("ValueError" in names[cid] for cid in same), [names[c] for c in same]
    own = next(p.id for p in make_plan(assignment, include_hidden=False).checks
               if p.check.probe == OWN_DATA_PROBE[assignment.slug])
    assert own in differing


def test_public_check_files_differ_between_students(assignment, tmp_path):
    """The public otter test files printed into two students' folders hold different
    inputs."""
    for student in ("S001", "S002"):
        write_otter_tests(assignment, tmp_path / student, include_hidden=False,
                          variant=_seed(assignment, student))
    differ = [q for q in assignment.question_ids
              if (tmp_path / "S001" / f"{q}.py").read_text()
              != (tmp_path / "S002" / f"{q}.py").read_text()]
    assert differ == assignment.question_ids


def test_rendered_setup_cells_define_the_variants_data(assignment):
    """Every rendered setup cell is valid Python whose data is the variant's (the values the
    own-data check falls back to): X_demo from its seed and shape; the vae's demo tensors
    printed as literals, and for the seed the torch.manual_seed(0) draws that checks.py
    reproduces with its own generator."""
    for student in (None, *STUDENTS[:6]):
        seed = None if student is None else _seed(assignment, student)
        v = assignment.variant(seed)
        tag = None if student is None else tag_for(SECRET, assignment, student)
        ns = _run_setup(_setup_cell(build_notebook(assignment, "en", tag)))
        if assignment.slug == "glorot":
            expected = np.random.default_rng(v["demo_seed"]).normal(
                size=(v["demo_n_in"], v["demo_m"]))
            np.testing.assert_array_equal(ns["X_demo"], expected)
        else:
            for name in ("x_demo", "x_hat_demo", "mu_demo", "logvar_demo"):
                got = ns[name]
                assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
                want = torch.tensor(np.asarray(v[name]), dtype=torch.float32)
                assert torch.equal(got, want), (student, name)
            assert tuple(ns["mu_demo"].shape) == (v["demo_batch"], v["demo_latent"])
            assert tuple(ns["x_demo"].shape) == (v["demo_batch"], v["demo_features"])


def test_texts_print_the_variants_numbers_in_every_language(assignment):
    """The texts render in en, es and pt with the student's numbers and no jinja2 left over;
    the canonical text says nothing about a personal variant."""
    for lang in LANGUAGES:
        canonical = "\n".join(c.source for c in build_notebook(assignment, lang).cells
                              if c.cell_type == "markdown")
        assert "X_demo` and\nthese" not in canonical and "**Your numbers.**" not in canonical
        for student in STUDENTS[:3]:
            v = assignment.variant(_seed(assignment, student))
            nb = build_notebook(assignment, lang, tag_for(SECRET, assignment, student))
            text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
            assert "{{" not in text and "{%" not in text
            assert text.count("$") % 2 == 0
            if assignment.slug == "glorot":
                n_in, n_out = v["sample_fans"]
                assert f"${n_in} \\times {n_out}$" in text
                d_in, d_out = v["draw_fans"]
                assert f"${d_in} \\times {d_out}$" in text
                assert f"{v['demo_layers']} " in text and f" {v['demo_width']} " in text
                assert f" {v['band_width']}" in text
            else:
                assert f"$\\beta = {v['beta']:g}$" in text
                assert f"beta={v['beta']!r}, kind=\"bce\")" in text
                mu = ", ".join(str(x) for x in np.asarray(v["mu_demo"])[0])
                assert f"$\\mu = ({mu})$" in text


def test_variants_keep_the_properties_the_checks_rely_on(assignment):
    """Over 40 students: glorot's public fans stay unequal where a mistake would hide, the
    judged samples have >= 15,000 entries with fans >= 20 apart (the false-failure budget of
    judges.py), the band check is drawn where its thresholds were measured; vae's q1 latent
    size differs from the KL one (the mismatched-shape check), one KL row is zero and the
    others clearly positive, x is binary, x_hat inside (0, 1), and beta is not 1."""
    for student in STUDENTS:
        v = assignment.variant(_seed(assignment, student))
        assert v["seed"] is False
        if assignment.slug == "glorot":
            assert any(a != b for a, b in v["fans"])
            n_in, n_out = v["sample_fans"]
            assert n_in * n_out >= 15000 and abs(n_in - n_out) >= 20
            assert v["draw_fans"][0] != v["draw_fans"][1]
            assert 32 <= v["band_width"] <= 128 and 200 <= v["band_m"] <= 400
            assert v["preact_fans"][0] != 1
        else:
            assert v["mu"].shape[1] != v["kl_mu"].shape[1]
            assert v["mu"].shape[0] == v["kl_mu"].shape[0] == v["x"].shape[0]
            kl = -0.5 * np.sum(1 + v["kl_logvar"] - v["kl_mu"] ** 2 - np.exp(v["kl_logvar"]),
                               axis=1)
            assert np.sum(kl == 0) == 1 and np.sum(kl > 0.05) == len(kl) - 1
            assert set(np.unique(v["x"])) <= {0.0, 1.0}
            assert set(np.unique(v["x_demo"])) <= {0.0, 1.0}
            assert np.all((v["x_hat"] > 0) & (v["x_hat"] < 1))
            assert np.all((v["x_hat_demo"] > 0) & (v["x_hat_demo"] < 1))
            assert v["beta"] != 1.0


def test_band_check_of_every_variant_passes_the_reference_with_a_margin():
    """The public band check of 40 students' variants: the reference stays inside the
    thresholds with the margin test_glorot_grading demands of the hidden band check."""
    glorot = load_assignment("glorot")
    judges, reference = glorot.judges, vars(glorot.reference)
    for student in STUDENTS:
        planned = next(p for p in make_plan(glorot, include_hidden=False,
                                            variant=_seed(glorot, student)).checks
                       if p.check.judge == "activation_band")
        out = glorot.probes.activation_band(reference, **planned.inputs)
        assert min(out["glorot"]) >= 2 * judges.GLOROT_FLOOR
        assert max(out["glorot"]) <= judges.GLOROT_CEILING / 1.4
        assert out["small"][-1] <= judges.SMALL_CEILING * 1e-6
        assert out["large"][-1] >= judges.LARGE_FLOOR + 0.1
        assert judges.activation_band(planned.inputs, out, out) == (1.0, [])


def test_false_failure_budget_holds_for_every_variant():
    """Every variant has the same four sample judges as the seed (so 4 x 3 x DELTA < 1e-6
    per submission, as judges.py documents), each on >= 15,000 entries."""
    glorot = load_assignment("glorot")
    for student in STUDENTS[:10]:
        plan = make_plan(glorot, seed=12345, variant=_seed(glorot, student))
        samples = [p for p in plan.checks if p.check.judge and p.check.judge.endswith("_sample")]
        assert len(samples) == 4
        assert len(samples) * 3 * glorot.judges.DELTA < 1e-6
        for planned in samples:
            assert planned.inputs["n_in"] * planned.inputs["n_out"] >= 15000
            assert abs(planned.inputs["n_in"] - planned.inputs["n_out"]) >= 20


def test_every_mistake_stays_detectable_in_every_variant(assignment):
    """For six students, each known mistake differs from the reference beyond tolerance on some
    check of its question (so the judge can name it); and the own-data check of a variant
    tells every mistake of its question apart (for the vae: beta is never 1 there)."""
    for student in STUDENTS[:6]:
        plan = make_plan(assignment, variant=_seed(assignment, student))
        variants = expectations(plan).variants
        caught = {m.id for found in variants.values() for m, _ in found}
        missed = [m.id for m in assignment.mistakes if m.id not in caught]
        assert not missed, (student, missed)
        own = next(p for p in plan.checks if p.check.probe == OWN_DATA_PROBE[assignment.slug])
        named = {m.id for m, _ in variants[own.id]}
        question = assignment.question(own.check.question)
        assert named == {m.id for m in assignment.mistakes if m.function in question.defines}


def test_own_data_check_reads_the_notebook_and_falls_back_to_the_inputs(assignment):
    """The own-data probe answers for the notebook's data when it defines it (another
    student's numbers give another answer), and for the inputs when it does not."""
    reference = vars(assignment.reference)
    plans = {s: make_plan(assignment, include_hidden=False, variant=_seed(assignment, s))
             for s in ("S001", "S002")}
    own = {s: next(p for p in plan.checks if p.check.probe == OWN_DATA_PROBE[assignment.slug])
           for s, plan in plans.items()}
    probe = getattr(assignment.probes, OWN_DATA_PROBE[assignment.slug])
    expected = checklib.normalize(probe(checklib.Names(reference), **own["S001"].inputs))
    for student, same in (("S001", True), ("S002", False)):
        nb = build_notebook(assignment, "en", tag_for(SECRET, assignment, student))
        notebook = {**_run_setup(_setup_cell(nb)), **reference}
        got = checklib.normalize(probe(checklib.Names(notebook), **own["S001"].inputs))
        assert (not checklib.compare(got, expected, own["S001"].check.tol)) == same, student


# ---------------------------------------------------------------------------- grading

def _roster(path, students):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student id", "name", "email"])
        for sid in students:
            writer.writerow([sid, f"Student {sid}", f"{sid.lower()}@uni.edu"])
    return path


def test_own_variant_full_marks_foreign_variant_flagged(assignment, tmp_path, box):
    """Graded under their roster names with the secret: each student's answered notebook
    (the reference pasted into their own release) gets full marks; a copy of another
    student's notebook filed under one's own name is flagged as a variant mismatch and loses
    exactly the check that recomputes a value from the notebook's own data."""
    first, other, copier = "S001", "S002", "S003"
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(_answered(assignment, first), str(subs / f"{first}.ipynb"))
    nbformat.write(_answered(assignment, other, "es"), str(subs / f"{other}.ipynb"))
    nbformat.write(_answered(assignment, other), str(subs / f"{copier}-copy.ipynb"))
    roster = _roster(tmp_path / "roster.csv", (first, other, copier))
    summary = grade_batch(assignment, [subs], tmp_path / "out",
                          BatchOptions(jobs=2, timeout=300, quiet=True, roster=roster,
                                       secret=SECRET, reports=False))
    # keyed by name: a notebook file's key is its file name (collect.py)
    by = {r.submission.removesuffix(".ipynb"): r for r in summary.results}
    for sid in (first, other):
        lost = [f for q in by[sid].questions for f in q.feedback]
        assert by[sid].total == assignment.possible and by[sid].status == "ok", lost
        assert by[sid].extra["student"] == sid
    foreign = by[f"{copier}-copy"]
    assert foreign.status == MISMATCH
    assert f"carries the variant of '{other}'" in foreign.message
    assert foreign.extra["student"] == copier
    lost = [c for c in foreign.checks if c.score < c.points]
    assert [c.name for c in lost] == [next(
        c.name for c in assignment.checks_for(_seed(assignment, copier))
        if c.probe == OWN_DATA_PROBE[assignment.slug])]
    assert "own" in lost[0].name and not lost[0].hidden
    assert foreign.total == assignment.possible - lost[0].points


def test_students_own_release_runs_in_a_kernel_and_passes_its_public_checks(assignment,
                                                                            tmp_path):
    """A student's own release folder (release --roster), the reference pasted into its
    notebook and run top to bottom in a Jupyter kernel: every public check of that student's
    test files passes, the own-data check included."""
    student = Student("S004", "Dana", "dana@uni.edu")
    (rel,) = release_roster(assignment, tmp_path / "release", "pt", [student], SECRET)
    work = tmp_path / "work"
    shutil.copytree(rel.student_dir, work)
    nb = fill_notebook(nbformat.read(str(rel.notebook), as_version=4),
                       {q: solution_source(assignment, q, assignment.reference)
                        for q in assignment.question_ids})
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    checks = [c for c in nb.cells
              if c.get("metadata", {}).get("neurograde", {}).get("role") == "check"]
    assert len(checks) == len(assignment.questions)
    for cell in checks:
        text = "\n".join(out.get("text", "") or str(out.get("data", {}).get("text/plain", ""))
                         for out in cell.get("outputs", []))
        assert "All test cases passed" in text, f"{cell.source}: {text[:1500]}"
    own = next(c for c in assignment.checks_for(_seed(assignment, "S004"))
               if c.probe == OWN_DATA_PROBE[assignment.slug])
    from neurograde.i18n import check_name  # the file names its checks in its language
    assert check_name(own.name, rel.lang, assignment) in \
        (work / "tests" / f"{own.question}.py").read_text()
