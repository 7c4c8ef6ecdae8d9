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
shape (and full marks to the reference), without quoting expected numbers in its messages, and
no hidden check has an answer a constant could give. The forged notebooks are built in
tests/forgery.py.
"""

from __future__ import annotations

import json
import math
import re
from collections import ChainMap
import numpy as np
import pytest

from assignment_grading import notebook_with_code
from neurograde import checklib
from neurograde.i18n import say_in
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.spec import load_assignment
from forgery import (CHANNEL_FORGER, MEASURED, forging_cell, grade, public_replays,
                     structures, stub_with_cell)

SLUGS = ("perceptron", "backprop", "glorot", "gradient_descent", "vae", "gan", "embeddings")


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
    replays, replayed_ids = public_replays(assignment)
    constants = structures(assignment)
    replay_table = {**constants, **replays}
    paths = [stub_with_cell(assignment, forging_cell(replay_table,
                                                       set(MEASURED) - set(replays)),
                             tmp_path / "subs" / "replay.ipynb"),
             stub_with_cell(assignment, forging_cell(constants, MEASURED),
                             tmp_path / "subs" / "constants.ipynb")]
    results = grade(assignment, paths, tmp_path / "out")

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
    path = stub_with_cell(assignment, source, tmp_path / "subs" / "channel.ipynb")
    result = grade(assignment, [path], tmp_path / "out")["channel"]
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
    result = grade(assignment, [path], tmp_path / "out")["fabricated"]
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
            text = " ".join(say_in("en", m, slug) for m in messages)
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
