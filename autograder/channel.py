"""Reading a run's result channel on the trusted side: what may be believed, and in which order.

The harness shares its process with student code, so any line after its `started` line may
have been written by the student. The parent therefore believes a line only where the protocol
(inside/harness.py) puts it, and only for what a student could have produced anyway by writing
code (the raw return value of the check being run):

* before `started`, only the harness can write: `sandbox-error` there is the grader's own
  failure (internal-error, retried); a run that never reached `started` is one too;
* after it, `sandbox-error`, `hello` or `started` lines are forgeries;
* check reports must come in the job's order (public checks, then, after await-hidden, hidden
  ones); a second report for a check, or one for a check not yet started, fails that check;
  a line of a kind the student side may not send fails the check being run;
* a line that is not a well-formed report (not JSON, nested too deep, too long) fails the
  whole submission, never the grader;
* after await-hidden (the point where hidden inputs entered the sandbox) nothing the process
  emits reaches feedback but each check's status, an exception's type (builtin names only)
  and a line number checked against the parent's own copy of the notebook: no messages, no
  printed output, no exit code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from . import checklib
from .checklib import say
from .sandbox.runner import AWAIT_HIDDEN, RawRun


class SandboxSetupError(RuntimeError):
    """The sandbox could not be set up for a submission (a grader problem, not the student's)."""


class ChannelCorrupt(ValueError):
    """The submission wrote something to the result channel that is not a report."""


@dataclass(frozen=True)
class CheckRun:
    """What the sandbox reported for one check (exactly one of the fields is set)."""
    outputs: object = None
    missing: str | None = None
    error: dict | None = None
    timeout: float | None = None
    garbage: str | dict | None = None     # why the outputs cannot be judged (text or message)
    tampered: str | None = None


@dataclass(frozen=True)
class Report:
    """What the channel established: reported checks, cell errors, where it ended."""
    checks: dict[str, CheckRun] = field(default_factory=dict)
    cell_errors: tuple[dict, ...] = ()
    done: bool = False
    hidden_started: bool = False
    notes: tuple[str, ...] = ()
    checks_started: bool = False    # the harness got as far as the checks


MAX_CELL_ERRORS = 50
_WHERE = re.compile(r"cell (\d+), line (\d+)")
TAMPERED = "the result of this check was written to the grader's channel by the submission"


@dataclass
class _Reader:
    order: list[str]              # check ids in the order the harness runs them
    hidden: frozenset[str]
    cells: dict[int, list[str]]   # the parent's own copy: cell number -> source lines
    names: frozenset[str]         # names a check may report as missing
    check_timeout: float
    checks: dict[str, CheckRun] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)
    cell_errors: list[dict] = field(default_factory=list)
    next: int = 0
    phase: str = "setup"          # setup | cells | checks | ended | hidden | done
    cells_seen: int = 0
    notes: list[str] = field(default_factory=list)

    def tamper(self, check_id: str) -> None:
        self.bad.add(check_id)
        self.checks[check_id] = CheckRun(tampered=TAMPERED)

    def violation(self, what: str) -> None:
        """A line the student side may not send: it fails the check being run."""
        if self.next < len(self.order):
            self.tamper(self.order[self.next])
        else:
            self.notes.append(f"ignored a {what} line after the last check")

    def line(self, index: int, raw: bytes, await_index: int | None) -> None:
        if self.phase == "setup":
            self._setup(raw)
            return
        if index == await_index:
            if self.phase != "ended":  # early (the student's) or after done: inputs exposed
                self.violation("misplaced await-hidden")
            self.phase = "hidden"
            return
        message = _parse(raw)
        kind = message.get("kind")
        if kind == "cell" and self.phase == "cells":
            self._cell(message)
        elif kind == "public-ended" and self.phase in ("cells", "checks"):
            self._public_ended()
        elif kind == "check":
            self._check(message)
        elif kind == "done" and self.phase != "done":
            self.phase = "done"
        else:
            self.violation(f"{str(kind)[:40]!r}")

    def _setup(self, raw: bytes) -> None:
        try:
            message = _parse(raw)
        except ChannelCorrupt as exc:
            raise SandboxSetupError(f"the harness wrote an unreadable line ({exc})") from None
        kind = message.get("kind")
        if kind == "sandbox-error":
            raise SandboxSetupError(f"the sandbox could not be set up: "
                                    f"{str(message.get('message'))[:500]}")
        if kind == "started":
            self.phase = "cells"
        elif kind != "hello":
            raise SandboxSetupError(f"the harness sent {str(kind)[:40]!r} before starting")

    def _cell(self, message: dict) -> None:
        self.cells_seen += 1
        error = message.get("error")
        if isinstance(error, dict) and len(self.cell_errors) < MAX_CELL_ERRORS:
            self.cell_errors.append({"number": _int_or_none(message.get("number")),
                                     **_clean_error(error)})

    def _public_ended(self) -> None:
        """The public checks are over: any the harness did not report did not run."""
        while self.next < len(self.order) and self.order[self.next] not in self.hidden:
            self.next += 1
        self.phase = "ended"

    def _check(self, message: dict) -> None:
        check_id = message.get("id")
        if check_id not in self.order:
            self.violation("check report for an unknown check")
            return
        expected_phase = ("hidden",) if check_id in self.hidden else ("cells", "checks")
        in_turn = (self.next < len(self.order) and check_id == self.order[self.next]
                   and self.phase in expected_phase)
        if check_id in self.checks and check_id not in self.bad:
            self.tamper(check_id)           # a second report: one of the two is forged
        elif not in_turn:
            self.tamper(check_id)           # reported before the harness could have run it
        elif check_id in self.bad:
            self.next += 1                  # its turn, but already disturbed: stays failed
        else:
            self.next += 1
            self.checks[check_id] = self._check_run(message, check_id in self.hidden)
        if in_turn and self.phase == "cells":
            self.phase = "checks"

    def _check_run(self, message: dict, hidden: bool) -> CheckRun:
        if "outputs" in message:
            try:
                return CheckRun(outputs=checklib.decode(message["outputs"]))
            except Exception as exc:  # untrusted data (RecursionError included): garbage
                return CheckRun(garbage=say("unreadable") if hidden else
                                say("unreadable-detail", detail=str(exc)[:200]))
        missing = message.get("missing")
        if isinstance(missing, str):
            if hidden and missing not in self.names:
                missing = "a name this check needs"
            return CheckRun(missing=missing[:100])
        error = message.get("error")
        if isinstance(error, dict):
            return CheckRun(error=self._hidden_error(error) if hidden else _clean_error(error))
        timeout = message.get("timeout")
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            # After the hidden inputs the number is the submission's to pick: use ours.
            return CheckRun(timeout=self.check_timeout if hidden
                            else min(max(float(timeout), 0.0), self.check_timeout))
        return CheckRun(garbage=say("grader-could-not-run"))

    def _hidden_error(self, error: dict) -> dict:
        """Type (a builtin exception's name, else 'Exception') and where, rebuilt from the
        parent's copy of the notebook: nothing of the submission's own text."""
        kind = str(error.get("type"))
        if kind not in checklib.SAFE_EXCEPTIONS:
            kind = "Exception"
        where = None
        found = _WHERE.match(str(error.get("where") or ""))
        if found:
            number, line = int(found.group(1)), int(found.group(2))
            lines = self.cells.get(number)
            if lines is not None and 1 <= line <= len(lines):
                where = f"cell {number}, line {line}: {lines[line - 1].strip()[:200]}"
        return {"type": kind, "message": None, "where": where}


def _parse(raw: bytes) -> dict:
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ChannelCorrupt(f"{type(exc).__name__}") from None
    if not isinstance(message, dict):
        raise ChannelCorrupt("not a JSON object")
    return message


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _clean_error(err: dict) -> dict:
    return {k: str(err.get(k))[:600] if err.get(k) is not None else None
            for k in ("type", "message", "where")}


def read_report(raw: RawRun, order: list[str], hidden: set[str], cells: list[dict],
                names: set[str], check_timeout: float) -> Report:
    """Interpret a run's channel lines. Raises SandboxSetupError for the grader's own
    failures (nothing of the student ran), ChannelCorrupt for lines that are not reports."""
    reader = _Reader(order, frozenset(hidden),
                     {c["number"]: c["source"].splitlines() for c in cells},
                     frozenset(names), check_timeout)
    for index, line in enumerate(raw.lines):
        reader.line(index, line, raw.await_index)
    if reader.phase == "setup":
        raise SandboxSetupError("the grading process ended before running any of the "
                                "submission's code (see the grader's set-up: is the Python "
                                "environment visible inside the sandbox?)")
    if raw.oversized_lines:
        raise ChannelCorrupt(f"{raw.oversized_lines} line(s) longer than the limit")
    return Report(dict(reader.checks), tuple(reader.cell_errors), reader.phase == "done",
                  raw.await_index is not None, tuple(reader.notes),
                  reader.phase not in ("setup", "cells") or reader.cells_seen >= len(cells))
