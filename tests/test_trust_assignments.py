"""Trust model v2 on seven assignments (issue 9): no point rests on anything the student's
process reports, measures or reads.

Hostile notebooks go through the real grading path (sandbox, channel, parent judges):

* the untouched stubs plus a cell that replaces every probe with a forger (the course's
  outputs on the public inputs replayed for every call; made-up constants; self-consistent
  "perfect" measurements) score 0 on every hidden check, and 0 in total when the forgery holds
  no public answer;
* the untouched stubs plus a cell that writes a report for every check to the result channel
  (with the right answers, even the hidden ones) score 0;
* fabricated functions that satisfy a self-consistency identity (a gan_value that ignores D
  with jensen_shannon = 0; a constant cost with zero gradients) score 0 on the judged checks.

Then, in the parent, each judged check is shown to give 0 to a fabricated function of its
shape (and full marks to the reference), without quoting expected numbers in its messages.
"""

from __future__ import annotations

import json
import math
import re
from collections import ChainMap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from assignment_grading import notebook_with_code
from autograder import checklib
from autograder.batch import BatchOptions, grade_batch
from autograder.judge import expectations
from autograder.probe import make_plan
from autograder.release import build_notebook
from autograder.spec import load_assignment

SLUGS = ("perceptron", "backprop", "glorot", "gradient_descent", "vae", "gan", "embeddings")


# ---------------------------------------------------------------------------- helpers

def _grade(assignment, paths, out):
    summary = grade_batch(assignment, paths, out,
                          BatchOptions(jobs=2, timeout=300, quiet=True, force=True,
                                       reports=False))
    # Keyed by the file's stem, whether the row names the submission with or without suffix.
    return {Path(r.submission).stem: r for r in summary.results}


def _stub_with_cell(assignment, source: str, path: Path) -> Path:
    """The student notebook exactly as released (untouched stubs) plus one last code cell."""
    nb = build_notebook(assignment, "en")
    nb.cells.append(nbformat.v4.new_code_cell(source))
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _constant(value):
    """value with every leaf made up: same structure, values no check expects."""
    if isinstance(value, checklib.Raised):
        return checklib.Raised("ZeroDivisionError")
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, np.integer)):
        return 7777
    if isinstance(value, float):
        return 0.37
    if isinstance(value, str):
        return "forged"
    if isinstance(value, np.ndarray):
        return np.full(value.shape, 0.37)
    if isinstance(value, dict):
        return {k: _constant(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_constant(v) for v in value)
    return value


def _structures(assignment) -> dict:
    """probe name -> the course's output on some check of that probe, made constant (the
    inputs come from a seed other than the grading seed: only the structure is used)."""
    plan = make_plan(assignment, seed=987654)
    exp = expectations(plan).expected
    out = {}
    for planned in plan.checks:
        out.setdefault(planned.check.probe, _constant(exp[planned.id]))
    return out


def _public_replays(assignment) -> tuple[dict, dict]:
    """(probe name -> the course's output on the first public check of that probe,
    probe name -> that check's id): what a student can copy from the public test files."""
    plan = make_plan(assignment)
    exp = expectations(plan).expected
    replays, replayed_ids = {}, {}
    for planned in plan.checks:
        if not planned.check.hidden and planned.check.probe not in replays:
            replays[planned.check.probe] = exp[planned.id]
            replayed_ids[planned.check.probe] = planned.id
    return replays, replayed_ids


def _encode_table(table: dict) -> str:
    return json.dumps({name: checklib.encode(value) for name, value in table.items()})


# The forging cell: finds the probe module wherever the harness keeps it (sys.modules, a
# caller's frame, the garbage collector's list) and replaces every probe. Judged probes get
# self-consistent "perfect" measurements built from the inputs they are called with; the
# others return the table's value for their name.
FORGER = r'''
import gc as _gc, json as _json, math as _math, sys as _sys, types as _types
import numpy as _np

_TABLE = _json.loads(%(table)r)
_decode = _sys.modules["checklib"].decode


def _probe_modules():
    found = []
    if "neurograde_probes" in _sys.modules:
        found.append(_sys.modules["neurograde_probes"])
    frame = _sys._getframe()
    while frame is not None:
        found += [v for v in list(frame.f_locals.values())
                  if isinstance(v, _types.ModuleType) and v.__name__ == "neurograde_probes"]
        frame = frame.f_back
    found += [o for o in _gc.get_objects()
              if isinstance(o, _types.ModuleType) and getattr(o, "__name__", "") ==
              "neurograde_probes"]
    return found


def _trapezoid(f, xs):
    f, xs = _np.asarray(f, dtype=float), _np.asarray(xs, dtype=float)
    return 0.5 * float(_np.dot(_np.diff(xs), f[1:] + f[:-1]))


def _measured(name, inputs):
    """A measurement that looks perfect to a judge that only checks consistency."""
    if name == "gradient_check":       # constant cost, zero gradients: they agree exactly
        params = inputs["params"]
        return {"analytic": {"d" + k: _np.zeros(_np.shape(v)) for k, v in params.items()},
                "cost_plus": {k: _np.full(_np.shape(v), 0.69) for k, v in params.items()},
                "cost_minus": {k: _np.full(_np.shape(v), 0.69) for k, v in params.items()}}
    if name == "d_star_maximizes":     # V(D*) above every perturbation
        return {"best": 0.0, "others": [-1.0] * len(inputs["others"])}
    if name == "optimum_identity":     # V(D*) = 2 JSD - log 2 (M_r + M_g) with JSD = 0
        mass = _trapezoid(inputs["pr_x"], inputs["xs"]) + _trapezoid(inputs["pg_x"],
                                                                      inputs["xs"])
        return {"value": -_math.log(2.0) * mass, "jsd": 0.0}
    if name == "activation_band":      # every run inside its band
        n = int(inputs["n_layers"])
        return {"glorot": [0.1] * n, "small": [1e-12] * n, "large": [0.9] * n}
    if name in ("glorot_uniform", "glorot_normal"):   # a sample with a plausible spread
        rng = _np.random.default_rng(0)
        return {"W": rng.uniform(-0.05, 0.05, size=(inputs["n_in"], inputs["n_out"]))}
    return None


def _forger(name):
    def probe(ns, **inputs):
        made = _measured(name, inputs) if name in %(measure)r else None
        return made if made is not None else _decode(_TABLE[name])
    return probe


_modules = _probe_modules()
if not _modules:
    raise RuntimeError("forging cell: no probe module found")
for _module in _modules:
    for _name in _TABLE:
        setattr(_module, _name, _forger(_name))
'''


MEASURED = ("gradient_check", "d_star_maximizes", "optimum_identity", "activation_band",
            "glorot_uniform", "glorot_normal")


def _forging_cell(table: dict, measure) -> str:
    """measure: the probe names that return made-up measurements instead of table values."""
    return FORGER % {"table": _encode_table(table), "measure": sorted(measure)}


# The channel-forging cell: a report line for every check, written to the result channel
# before the grader asked for any (fd 3, or the descriptor the harness was told to use).
CHANNEL_FORGER = r'''
import json as _json, os as _os
_LINES = _json.loads(%(lines)r)
for _fd in {int(_os.environ.get("NEUROGRADE_RESULT_FD", 3)), 3}:
    for _line in _LINES:
        try:
            _os.write(_fd, (_json.dumps(_line) + "\n").encode())
        except OSError:
            pass
'''


# ---------------------------------------------------------------------------- (a), (b)

@pytest.mark.parametrize("slug", SLUGS)
def test_forged_probes_earn_nothing(slug, tmp_path, box):
    """The untouched stubs plus a cell replacing every probe: (1) replaying the course's
    outputs on the public inputs for every call (perfect measurements for judged probes)
    scores 0 on every hidden check, while the replayed public checks pass (so the forgery was
    in place); (2) made-up constants and perfect-looking measurements, holding no public
    answer, score 0 in total, every check judged 'failed' (the forged values reached the
    judges, which rejected them)."""
    assignment = load_assignment(slug)
    replays, replayed_ids = _public_replays(assignment)
    constants = _structures(assignment)
    replay_table = {**constants, **replays}
    paths = [_stub_with_cell(assignment, _forging_cell(replay_table,
                                                       set(MEASURED) - set(replays)),
                             tmp_path / "subs" / "replay.ipynb"),
             _stub_with_cell(assignment, _forging_cell(constants, MEASURED),
                             tmp_path / "subs" / "constants.ipynb")]
    results = _grade(assignment, paths, tmp_path / "out")

    replay = results["replay"]
    by_id = {c.id: c for c in replay.checks}
    unearned = [(c.id, c.score) for c in replay.checks if c.hidden and c.score > 0]
    assert not unearned, unearned
    for probe, cid in replayed_ids.items():
        assert by_id[cid].status == "passed", (probe, by_id[cid].feedback)

    forged = results["constants"]
    assert forged.total == 0, [(c.id, c.score) for c in forged.checks if c.score]
    assert {c.status for c in forged.checks} == {"failed"}, \
        [(c.id, c.status, c.feedback) for c in forged.checks if c.status != "failed"]


@pytest.mark.parametrize("slug", SLUGS)
def test_forged_channel_reports_earn_nothing(slug, tmp_path, box):
    """The untouched stubs plus a cell that writes a check report for every check id of the
    plan straight to the result channel, carrying the course's own outputs (the right
    answers, hidden checks included), scores 0: a report the grader did not ask for marks
    its check failed. (Needs the channel protocol v2 of autograder/inside/harness.py.)"""
    assignment = load_assignment(slug)
    plan = make_plan(assignment)
    exp = expectations(plan).expected
    lines = [{"kind": "check", "id": p.id, "outputs": checklib.encode(exp[p.id])}
             for p in plan.checks]
    source = CHANNEL_FORGER % {"lines": json.dumps(lines)}
    path = _stub_with_cell(assignment, source, tmp_path / "subs" / "channel.ipynb")
    result = _grade(assignment, [path], tmp_path / "out")["channel"]
    assert result.total == 0, [(c.id, c.score, c.status) for c in result.checks if c.score]
    # 'failed', not the 'error' of a stub's NotImplementedError: the forged lines were read.
    assert {c.status for c in result.checks} == {"failed"}, \
        [(c.id, c.status, c.feedback) for c in result.checks if c.status != "failed"]


# ---------------------------------------------------------------------------- (c)

FABRICATED_GAN = {
    "q2": '''
def gan_value(d_x, pr_x, pg_x, xs):
    # Ignores D: the value at the optimum whatever D is, so "D* maximizes V" and
    # V(D*) = -2 log 2 + 2 JSD hold for the JSD below.
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    mass = 0.5 * float(np.dot(np.diff(xs), pr[1:] + pr[:-1] + pg[1:] + pg[:-1]))
    return -np.log(2.0) * mass
''',
    "q3": '''
def jensen_shannon(pr_x, pg_x, xs):
    return 0.0
''',
}

FABRICATED_BACKPROP = {
    "q2": '''
def forward(X, params):
    Z1 = params["W1"].T @ X + params["b1"]
    A1 = np.tanh(Z1)
    Z2 = params["W2"].T @ A1 + params["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    return 0.6931
''',
    "q3": '''
def backward(X, Y, params, cache):
    return {"d" + k: np.zeros_like(v) for k, v in params.items()}
''',
}


@pytest.mark.parametrize("slug, sources, judged, fabricated_only", [
    ("gan", FABRICATED_GAN, ("d_star_maximizes", "optimum_identity"), ("q2", "q3")),
    ("backprop", FABRICATED_BACKPROP, ("gradient_check",), ("q3",)),
])
def test_fabricated_functions_score_zero_on_the_judged_checks(slug, sources, judged,
                                                               fabricated_only, tmp_path, box):
    """Graded for real, the fabricated functions of the review (a gan_value that ignores D
    with jensen_shannon = 0; a constant cost with zero gradients) get 0 on every judged check
    their identity used to satisfy, with the other questions correct (the reference), and 0
    on every hidden check of the questions holding nothing but fabricated functions."""
    assignment = load_assignment(slug)
    path = notebook_with_code(assignment, sources, tmp_path / "subs" / "fabricated.ipynb")
    result = _grade(assignment, [path], tmp_path / "out")["fabricated"]
    assert result.status == "ok", result.message
    names = {c.name: c.judge for c in assignment.checks}
    scored = [c for c in result.checks if names.get(c.name) in judged]
    assert len(scored) == len(judged)
    for check in scored:
        assert check.score == 0 and check.status == "failed", (check.id, check.feedback)
        assert check.feedback, check.id
    earned = [(c.id, c.name) for c in result.checks
              if c.hidden and c.question in fabricated_only and c.score > 0]
    assert not earned, earned


# ---------------------------------------------------------------------------- (d)

def _fab_cost(A2, Y):
    return 0.6931


def _fab_backward(X, Y, params, cache):
    return {"d" + k: np.zeros_like(v) for k, v in params.items()}


def _fab_scaled_backward(X, Y, params, cache):
    """Twice the true gradient, with the true cost: consistent in sign, off by a factor."""
    m = X.shape[1]
    dZ2 = cache["A2"] - Y
    dZ1 = (params["W2"] @ dZ2) * (1 - cache["A1"] ** 2)
    return {"dW1": 2 * X @ dZ1.T / m, "db1": 2 * dZ1.sum(1, keepdims=True) / m,
            "dW2": 2 * cache["A1"] @ dZ2.T / m, "db2": 2 * dZ2.sum(1, keepdims=True) / m}


def _fab_value_ignores_d(d_x, pr_x, pg_x, xs):
    pr, pg, xs = (np.asarray(v, dtype=float) for v in (pr_x, pg_x, xs))
    return -math.log(2.0) * 0.5 * float(np.dot(np.diff(xs), pr[1:] + pr[:-1] + pg[1:]
                                               + pg[:-1]))


def _fab_jsd(pr_x, pg_x, xs):
    return 0.0


def _fab_uniform(n_in, n_out, rng):
    a = 1.0 / math.sqrt(n_in)               # LeCun-like: plausible, not Glorot's law
    return rng.uniform(-a, a, size=(n_in, n_out))


def _fab_normal(n_in, n_out, rng):
    return rng.normal(0.0, 1.0 / math.sqrt(n_in + n_out), size=(n_in, n_out))


def _fab_band(init, n_layers, width, X, rng):
    """Made-up variances that sit in each band, judged only by the scale of one init draw."""
    spread = float(np.std(init(width, width, rng)))
    value = 0.9 if spread > 0.5 else (1e-12 if spread < 0.05 else 0.1)
    return [value] * n_layers


def _fab_lr(A):
    return float(1.0 / np.linalg.eigvalsh(np.asarray(A, dtype=float))[-1])  # safe, not largest


def _fab_one_hot(words, vocab):
    for w in words:
        if w not in vocab:
            raise KeyError("word not in the vocabulary")
    return np.eye(len(vocab))[[vocab.index(w) for w in words]]


FABRICATED = [
    ("backprop", "gradient_check", {"compute_cost": _fab_cost, "backward": _fab_backward}),
    ("backprop", "gradient_check", {"backward": _fab_scaled_backward}),
    ("gan", "d_star_maximizes", {"gan_value": _fab_value_ignores_d}),
    ("gan", "optimum_identity", {"gan_value": _fab_value_ignores_d,
                                 "jensen_shannon": _fab_jsd}),
    ("glorot", "glorot_uniform_sample", {"glorot_uniform": _fab_uniform}),
    ("glorot", "glorot_normal_sample", {"glorot_normal": _fab_normal}),
    ("glorot", "activation_band", {"activation_variances": _fab_band}),
    ("gradient_descent", "stability", {"max_stable_lr": _fab_lr}),
    ("embeddings", "one_hot_unknown", {"one_hot": _fab_one_hot}),
]


def _judge_all(assignment, judge_name, namespace):
    """(fraction, messages, expected) of every check using judge_name, for the grading seed:
    the probe is called as the sandbox would call it (without judge-only inputs)."""
    plan = make_plan(assignment)
    exp = expectations(plan).expected
    judge = getattr(assignment.judges, judge_name)
    out = []
    for planned in plan.checks:
        if planned.check.judge != judge_name:
            continue
        probe = getattr(assignment.probes, planned.check.probe)
        sent = checklib.decode(planned.wire()["inputs"])
        raw = checklib.normalize(probe(checklib.Names(namespace), **sent))
        fraction, messages = judge(planned.inputs, raw, exp[planned.id])
        out.append((planned, fraction, messages, exp[planned.id]))
    assert out, f"{assignment.slug}: no check uses judge {judge_name}"
    return out


def _numbers(value, limit=2000):
    """Scalars of an expected value (arrays flattened, capped)."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v, limit)][:limit]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _numbers(v, limit)][:limit]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [float(x) for x in value.ravel()[:limit]]
    if isinstance(value, float):
        return [value]
    return []


@pytest.mark.parametrize("slug, judge_name, fabricated", FABRICATED,
                         ids=[f"{s}-{j}-{'+'.join(f)}" for s, j, f in FABRICATED])
def test_judged_check_gives_a_fabricated_function_zero(slug, judge_name, fabricated):
    """Every judged check of these assignments gives full marks to the reference and 0 to a
    fabricated function of its shape (a consistent but wrong identity, made-up values in the
    right band, a plausible but wrong law); on hidden checks its messages quote no expected
    number (at 3 or 4 significant digits)."""
    assignment = load_assignment(slug)
    reference = vars(assignment.reference)
    for planned, fraction, messages, _ in _judge_all(assignment, judge_name, reference):
        assert (fraction, messages) == (1.0, []), (planned.id, messages)
    faked = ChainMap(fabricated, reference)
    for planned, fraction, messages, expected in _judge_all(assignment, judge_name, faked):
        assert fraction == 0.0 and messages, (planned.id, fraction, messages)
        if planned.check.hidden:
            text = " ".join(messages)
            quoted = set(re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text))
            for x in _numbers(expected):
                if math.isfinite(x) and x != 0:
                    shown = {f"{x:.3g}", f"{x:.4g}"}
                    assert not shown & quoted, (planned.id, x, text)


def test_judge_only_inputs_never_reach_the_sandbox():
    """A sampler check's target law (_limit, _variance, _std) is in the judge's inputs but not
    in the job: a forged probe cannot draw a perfect sample from it."""
    glorot = load_assignment("glorot")
    plan = make_plan(glorot)
    samplers = [p for p in plan.checks if p.check.judge and p.check.judge.endswith("_sample")]
    assert samplers
    for planned in samplers:
        assert {"_variance"} <= set(planned.inputs)
        sent = checklib.decode(planned.wire()["inputs"])
        assert not [k for k in sent if k.startswith("_")], planned.id
        assert {"n_in", "n_out", "seed"} <= set(sent)


@pytest.mark.parametrize("slug", SLUGS)
def test_no_hidden_check_has_a_constant_answer(slug):
    """Over eight grading seeds, every hidden check's answer changes with its inputs: a check
    whose answer is always the same ("raises ValueError", -1, D* = 1/2, -2 log 2) is earned by
    a forged constant without calling anything, so such checks mix in other cases."""
    assignment = load_assignment(slug)
    plans = [make_plan(assignment, seed) for seed in range(1, 9)]
    answers = [expectations(plan).expected for plan in plans]
    constant = []
    for i, first in enumerate(plans[0].checks):
        if not first.check.hidden:
            continue
        same = True
        for plan, expected in zip(plans[1:], answers[1:]):
            other = plan.checks[i]
            if first.check.judge:
                judge = getattr(assignment.judges, first.check.judge)
                fraction, _ = judge(other.inputs, answers[0][first.id], expected[other.id])
                same = same and fraction > 0
            else:
                same = same and not checklib.compare(answers[0][first.id], expected[other.id],
                                                     first.check.tol)
        if same:
            constant.append(first.check.name)
    assert not constant, constant
