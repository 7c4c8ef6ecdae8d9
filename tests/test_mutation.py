"""The mutation tool (autograder/mutation.py, mutants.py): mutants are made deterministically
with stable ids, every mutation kind is made, a mutant's submission holds the mutated code, and
the mutants are graded through grade_batch with the unmutated reference, scored against the
README's list of equivalent mutants."""

import ast
import csv

import nbformat
import pytest

from neurograde import mutation
from neurograde.mutation import (MutationError, assignment_mutants, mutants_of_source,
                                 read_equivalents, sample, write_submissions)
from neurograde.release import NB_META_KEY, solution_source
from neurograde.spec import load_assignment

EXAMPLE = '''import numpy as np


def f(x, y, scale=2.0, *, flag=True):
    """A docstring with 1 + 2 in it."""
    z = x + y - 3
    w = x * y / 2 ** x
    count = 0
    count += 1
    if x < y and x >= 0 and not flag:
        return -z
    if x == y:
        raise ValueError(f"bad {x + 1}")
    s = np.sum(w, axis=0, keepdims=True) + w.mean(1) + np.mean(w, axis=-1)
    return s * scale if flag is True else None


def untouched(a):
    return a + 1
'''

# One mutant of every kind (and the parenthesized one: x * y / 2 * x would mean (x*y/2)*x).
EXPECTED = {
    "f: x + y -> x - y": "operator",
    "f: x + y - 3 -> x + y + 3": "operator",
    "f: x * y -> x / y": "operator",
    "f: 2 ** x -> (2 * x)": "operator",
    "f: count += 1 -> count -= 1": "operator",
    "f: x < y -> x <= y": "comparison",
    "f: x >= 0 -> x > 0": "comparison",
    "f: x == y -> x != y": "comparison",
    "f: x + y - 3 -> x + y - 4": "constant",
    "f: x + y - 3 -> x + y - 6": "constant",
    "f: count = 0 -> count = 1": "constant",
    "f: count += 1 -> count += 0": "constant",
    "f: count += 1 -> count += 2": "constant",
    "f: x < y and x >= 0 and not flag -> x < y and x >= 0 and flag": "negation",
    "f: return -z -> return z": "negation",
    "f: np.sum(w, axis=0, keepdims=True) -> np.sum(w, axis=1, keepdims=True)": "axis",
    "f: np.sum(w, axis=0, keepdims=True) -> np.sum(w, axis=0, keepdims=False)": "axis",
    "f: w.mean(1) -> w.mean(0)": "axis",
    "f: np.mean(w, axis=-1) -> np.mean(w, axis=0)": "axis",
    "f: flag is True -> flag is False": "boolean",
    "f: scale=2.0 -> scale=3.0": "default",
    "f: scale=2.0 -> scale=4.0": "default",
    "f: flag=True -> flag=False": "default",
}

# A perceptron mutant any sound check kills (train_perceptron's mistake counts are its
# point), and a made id, near which a mistyped id gets a suggestion.
KILLED = "train_perceptron: count += 1 -> count += 2"
DEFAULT_LR = "train_perceptron: lr=1.0 -> lr=2.0"
# Rewrites that compute the same thing, so they survive whatever the checks are (the real
# survivors change as checks improve): one listed as equivalent in the test's README, one not.
EQUIVALENT = "train_perceptron: count += 1 -> count = count + 1"
UNLISTED = "train_perceptron: b = 0.0 -> b = 0.0 * 2"


def with_rewrites(assignment):
    """The assignment's mutants plus the two rewrites above (same function, same form)."""
    made = real_assignment_mutants(assignment)
    base = next(m for m in made if m.function == "train_perceptron")
    rewrites = [mutation.Mutant(EQUIVALENT, base.function, "operator", 0, base.original,
                                base.original.replace("count += 1", "count = count + 1")),
                mutation.Mutant(UNLISTED, base.function, "constant", 0, base.original,
                                base.original.replace("b = 0.0", "b = 0.0 * 2"))]
    assert all(r.source != base.original for r in rewrites)
    return made + rewrites


real_assignment_mutants = mutation.assignment_mutants


def test_every_mutation_kind_is_made_on_an_example():
    """Operators (also in +=, parenthesized where precedence needs it), comparisons,
    numbers, negations, axes (keyword, positional, -1, keepdims), booleans and defaults are
    each made in the named function; messages (raise, f-strings), docstrings and functions
    not named are left alone; every mutant's source parses and differs from the original
    only where its id says."""
    mutants = mutants_of_source(EXAMPLE, ["f"])
    by_id = {m.id: m for m in mutants}
    missing = [mid for mid in EXPECTED if mid not in by_id]
    assert not missing, (missing, sorted(by_id))
    for mid, kind in EXPECTED.items():
        assert by_id[mid].kind == kind, mid
    assert "x * y / (2 * x)" in by_id["f: 2 ** x -> (2 * x)"].source
    assert {m.function for m in mutants} == {"f"}
    assert not [m.id for m in mutants if "bad" in m.id or "1 + 2" in m.id]
    assert not [m.id for m in mutants if "w.mean(2)" in m.id]   # an axis, not a number
    original = mutants[0].original
    assert original.startswith("def f(") and "def untouched" not in original
    for m in mutants:
        assert m.source != original, m.id
        ast.parse(m.source)
    with pytest.raises(MutationError, match="did you mean 'untouched'"):
        mutants_of_source(EXAMPLE, ["untuched"])


def test_ids_are_deterministic_and_survive_unrelated_edits():
    """The same source gives the same mutants in the same order; editing another function
    (or adding one above) changes none of f's ids; a repeated change within a function gets
    #2; the sample is the same for the same seed, at most `limit`, in source order."""
    first = mutants_of_source(EXAMPLE, ["f", "untouched"])
    assert first == mutants_of_source(EXAMPLE, ["f", "untouched"])
    assert len({m.id for m in first}) == len(first)
    edited = EXAMPLE.replace("return a + 1", "b = a * 3\n    return b - 1")
    edited = "def helper():\n    return 0\n\n\n" + edited
    f_ids = [m.id for m in first if m.function == "f"]
    assert [m.id for m in mutants_of_source(edited, ["f"])] == f_ids
    repeated = mutants_of_source("def g(a):\n    return a + 1, a + 1\n", ["g"])
    assert [m.id for m in repeated if m.kind == "operator"] == ["g: a + 1 -> a - 1",
                                                                "g: a + 1 -> a - 1 #2"]
    made = assignment_mutants(load_assignment("gan"))
    chosen = sample(made, 10, "gan")
    assert chosen == sample(made, 10, "gan") and len(chosen) == 10
    assert chosen == [m for m in made if m in chosen]          # kept in order
    assert sample(made, 0, "gan") == made


def test_mutant_submission_holds_the_mutated_function(tmp_path):
    """The mutant's notebook is the student notebook with the reference pasted in, except
    the mutant's question cell, which holds the mutated function; the reference submission
    written beside it holds the reference."""
    assignment = load_assignment("perceptron")
    mutant = next(m for m in assignment_mutants(assignment)
                  if m.id == "train_perceptron: count += 1 -> count -= 1")
    written = write_submissions(assignment, [mutant], tmp_path)
    assert set(written) == {"reference", "mutant-000"}

    def stubs(path):
        nb = nbformat.read(str(path), as_version=4)
        return {c.metadata[NB_META_KEY]["question"]: c.source for c in nb.cells
                if c.metadata.get(NB_META_KEY, {}).get("role") == "stub"}

    cells, reference = stubs(written["mutant-000"][0]), stubs(written["reference"][0])
    assert "count -= 1" in cells["q4"] and "count += 1" not in cells["q4"]
    assert "count += 1" in reference["q4"]
    for qid in ("q1", "q2", "q3"):
        assert cells[qid] == reference[qid] == solution_source(assignment, qid,
                                                               assignment.reference)


def test_autoencoder_mutant_submission_carries_the_checkpoint(tmp_path):
    """An assignment whose submissions carry files (the autoencoder's checkpoint) gets a
    folder per mutant with the notebook and the reference checkpoint."""
    assignment = load_assignment("autoencoder")
    mutant = next(m for m in assignment_mutants(assignment) if m.function == "add_noise")
    written = write_submissions(assignment, [mutant], tmp_path)
    folder = written["mutant-000"][0]
    assert (folder / "autoencoder.pt").stat().st_size > 0
    nb = nbformat.read(str(folder / "autoencoder.ipynb"), as_version=4)
    assert any(mutant.source in c.source for c in nb.cells)


def test_equivalent_mutants_are_read_from_the_readme_section(tmp_path):
    """Only the table of `## Mutation testing` counts: ids in backticks (with \\| for a
    pipe), the reason in the second column; header rows and other sections' tables are
    ignored; a missing README lists nothing."""
    readme = tmp_path / "README.md"
    readme.write_text(
        "# notes\n\n| `not: this` | another table |\n|---|---|\n\n"
        "## Mutation testing\n\nSome words.\n\n"
        "| mutant | why it is equivalent |\n|---|---|\n"
        f"| `{EQUIVALENT}` | the same sum |\n"
        "| `f: a \\| b -> a & b` | booleans |\n\n"
        "## Later\n\n| `after: x` | no |\n")
    assert read_equivalents(readme) == {EQUIVALENT: "the same sum",
                                        "f: a | b -> a & b": "booleans"}
    assert read_equivalents(tmp_path / "missing.md") == {}


def test_list_prints_the_ids_without_grading(capsys):
    """--list prints the sampled ids (deterministic) and grades nothing; an unknown --id
    is a usage error naming the closest id."""
    assert mutation.main(["perceptron", "--list", "--limit", "5"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("# perceptron: 5 of ")
    assert mutation.main(["perceptron", "--list", "--limit", "5"]) == 0
    assert capsys.readouterr().out == first
    assert mutation.main(["perceptron", "--list", "--id", DEFAULT_LR.replace("2.0", "9")]) == 2
    assert f"did you mean {DEFAULT_LR!r}" in capsys.readouterr().err


def test_mutants_are_graded_through_the_batch_and_scored(tmp_path, box, capsys, monkeypatch):
    """Three perceptron mutants and the unmutated reference graded in one grade_batch: the
    reference gets full marks, the changed mistake count is killed, a rewrite listed as
    equivalent survives and counts as equivalent, another rewrite survives unlisted; score
    = 1 / (3 - 1); the listed entries that are killed or no longer made are reported as
    stale; exit 1 below --min."""
    monkeypatch.setattr(mutation, "assignment_mutants", with_rewrites)
    readme = tmp_path / "README.md"
    readme.write_text("## Mutation testing\n\n| mutant | why |\n|---|---|\n"
                      f"| `{EQUIVALENT}` | the same sum |\n"
                      f"| `{KILLED}` | wrongly listed |\n"
                      "| `predict: X @ w -> X @ v` | no such mutant |\n")
    ids = [KILLED, EQUIVALENT, UNLISTED]
    argv = ["perceptron", "--jobs", "2", "--readme", str(readme), "--keep",
            str(tmp_path / "keep")] + [a for i in ids for a in ("--id", i)]
    assert mutation.main(argv) == 1
    out = capsys.readouterr().out
    assert "perceptron: 3 mutants graded" in out
    assert "1 killed, 1 equivalent, score 50.0%" in out
    survivors = out.split("surviving, not listed as equivalent (1):")[1].split("  surviving")[0]
    assert UNLISTED in survivors and EQUIVALENT not in survivors
    stale = out.split("stale entries")[1]
    assert f"`{KILLED}`: killed" in stale
    assert "`predict: X @ w -> X @ v`: no longer made" in stale
    assert f"`{EQUIVALENT}`" not in stale
    assert "below 95%: perceptron" in out
    with open(tmp_path / "keep" / "grades" / "grades.csv") as fh:
        rows = {r["submission"].removesuffix(".ipynb"): r for r in csv.DictReader(fh)}
    assert set(rows) == {"reference", "mutant-000", "mutant-001", "mutant-002"}
    assert float(rows["reference"]["total"]) == pytest.approx(float(rows["reference"]
                                                                     ["possible"]))
    assert float(rows["mutant-000"]["total"]) < float(rows["mutant-000"]["possible"])

    report = mutation.report_for("perceptron", assignment_mutants(load_assignment(
        "perceptron")), [], {})
    assert report.score == 100.0 and mutation.below([report], 95) == []


def test_a_reference_without_full_marks_stops_the_run(tmp_path, box, monkeypatch, capsys):
    """If the unmutated reference loses points, no mutant result is given: the run stops
    with a grader-fault error (exit 2)."""
    real = mutation.mutant_sources

    def broken_reference(assignment, mutant, reference=None):
        sources = real(assignment, mutant, reference)
        if mutant is None:
            sources["q2"] = sources["q2"].replace("np.mean(y_true == y_pred)", "0.5")
        return sources

    monkeypatch.setattr(mutation, "mutant_sources", broken_reference)
    assert mutation.main(["perceptron", "--id", KILLED, "--readme",
                          str(tmp_path / "none.md")]) == 2
    err = capsys.readouterr().err
    assert "grader fault" in err and "unmutated reference" in err


def test_neurograde_selftest_runs_the_same_tool(capsys):
    """`neurograde selftest --mutants SLUG --list` prints what benchmarks/mutation.py does."""
    from neurograde.cli import main as cli_main
    assert cli_main(["selftest", "--mutants", "perceptron", "--list", "--limit", "4"]) == 0
    via_cli = capsys.readouterr().out
    assert mutation.main(["perceptron", "--list", "--limit", "4"]) == 0
    assert capsys.readouterr().out == via_cli
    assert via_cli.startswith("# perceptron: 4 of ")
