"""Forged submissions for the trust tests (tests/test_trust_assignments.py): notebooks built
from an assignment's untouched stubs plus one hostile cell, and the tables they carry.

The forging cells run inside the sandbox, in the student's process, as a hostile student's
cell would: one replaces the probes, the other writes lines to the result channel.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np

from neurograde import checklib
from neurograde.batch import BatchOptions, grade_batch
from neurograde.judge import expectations
from neurograde.probe import make_plan
from neurograde.release import build_notebook


def grade(assignment, paths, out):
    summary = grade_batch(assignment, paths, out,
                          BatchOptions(jobs=2, timeout=300, quiet=True, force=True,
                                       reports=False))
    # Keyed by the file's stem, whether the row names the submission with or without suffix.
    return {Path(r.submission).stem: r for r in summary.results}


def stub_with_cell(assignment, source: str, path: Path) -> Path:
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


def structures(assignment) -> dict:
    """probe name -> the course's output on some check of that probe, made constant (the
    inputs come from a seed other than the grading seed: only the structure is used)."""
    plan = make_plan(assignment, seed=987654)
    exp = expectations(plan).expected
    out = {}
    for planned in plan.checks:
        out.setdefault(planned.check.probe, _constant(exp[planned.id]))
    return out


def public_replays(assignment) -> tuple[dict, dict]:
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


def forging_cell(table: dict, measure) -> str:
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
