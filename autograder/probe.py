"""Stage 2a: the probe plan — which submission functions to call, on which inputs.

Inputs of hidden checks are drawn from a grading seed the student never sees; public checks use
the fixed inputs printed in the notebook. The plan is plain data, so it can be handed to the
sandbox as is; it holds no expected value. Judge-only checks (Check.parent_namespace) are kept
apart, in Plan.parent_checks: the job built from Plan.checks never holds them or their inputs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import checklib
from .spec import Assignment, Check


@dataclass(frozen=True)
class PlannedCheck:
    id: str
    check: Check
    inputs: dict        # decoded plain data (numpy arrays, numbers, strings)

    @property
    def parent_only(self) -> bool:
        return self.check.parent_namespace is not None

    def wire(self) -> dict:
        if self.parent_only:  # its inputs (hidden images, labels) must never reach the sandbox
            raise ValueError(f"check {self.id} is judged in the parent only; it has no wire form")
        # Keys starting with "_" are for the judge only (e.g. a sampler's target law): they
        # would hand a forged probe the answer, so they never reach the sandbox.
        return {"id": self.id, "probe": self.check.probe,
                "inputs": checklib.encode({k: v for k, v in self.inputs.items()
                                           if not k.startswith("_")})}


@dataclass(frozen=True)
class Plan:
    assignment: Assignment
    seed: int
    checks: tuple[PlannedCheck, ...]            # run in the sandbox (what the job holds)
    variant: int | None = None    # per-student variant seed; None = the canonical variant
    parent_checks: tuple[PlannedCheck, ...] = ()  # judge-only: run in the parent, never sent

    @property
    def all_checks(self) -> tuple[PlannedCheck, ...]:
        return self.checks + self.parent_checks

    def by_id(self) -> dict[str, PlannedCheck]:
        return {c.id: c for c in self.all_checks}

    @cached_property
    def wire(self) -> tuple[tuple[dict, ...], tuple[dict, ...], bytes]:
        """(public checks with their inputs, hidden checks as ids and probe names only, the
        hidden checks' inputs as JSON bytes): the same for every submission graded with this
        plan, so encoded once (execute.make_job). Callers must not modify them."""
        public = tuple(c.wire() for c in self.checks if not c.check.hidden)
        hidden = tuple({"id": c.id, "probe": c.check.probe, "hidden": True}
                       for c in self.checks if c.check.hidden)
        payload = {c.id: c.wire()["inputs"] for c in self.checks if c.check.hidden}
        return public, hidden, json.dumps(payload).encode() if hidden else b""


def default_seed(assignment: Assignment) -> int:
    """The one rule for the hidden inputs of an assignment version: the release draws the
    otter autograder zip's hidden inputs from it and `neurograde grade` draws its own from it,
    so both grade a notebook on the same inputs (per-student variants add the variant's own
    number to both, see make_plan). `grade --seed` overrides it for grading only."""
    digest = hashlib.sha256(f"neurograde:{assignment.slug}:{assignment.version}".encode())
    return int.from_bytes(digest.digest()[:4], "big")


def check_ids(checks) -> list[str]:
    """Each check's id: its question, public or hidden, and its rank among those (q3.h2)."""
    counters: dict[tuple[str, bool], int] = {}
    ids = []
    for check in checks:
        key = (check.question, check.hidden)
        counters[key] = counters.get(key, 0) + 1
        ids.append(check.id_in(counters[key]))
    return ids


def make_plan(assignment: Assignment, seed: int | None = None, *,
              include_hidden: bool = True, variant: int | None = None) -> Plan:
    seed = default_seed(assignment) if seed is None else int(seed)
    planned = []
    checks = assignment.checks_for(variant)
    for check, check_id in zip(checks, check_ids(checks)):
        if check.hidden and not include_hidden:
            continue
        # One independent stream per check, keyed by its question and name (not its position),
        # so adding or reordering checks never shifts another check's inputs.
        stream = int.from_bytes(hashlib.sha256(f"{check.question}:{check.name}".encode())
                                .digest()[:4], "big")
        rng = np.random.default_rng([seed, stream] if variant is None
                                    else [seed, stream, int(variant)])
        inputs = checklib.normalize(check.inputs(rng))
        if not isinstance(inputs, dict):
            raise TypeError(f"{assignment.slug}: inputs of check {check.name!r} must be a dict")
        planned.append(PlannedCheck(id=check_id, check=check, inputs=inputs))
    return Plan(assignment=assignment, seed=seed, variant=variant,
                checks=tuple(p for p in planned if not p.parent_only),
                parent_checks=tuple(p for p in planned if p.parent_only))
