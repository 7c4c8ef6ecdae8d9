"""Stage 3 (trusted): expected values from the reference, comparison, points, named mistakes.

Runs only in the grading parent. Expected values are computed by calling the same probe on the
reference namespace, so a probe is written once and means the same thing on both sides; known
mistakes are detected by calling it on the reference with one function swapped for a wrong
variant and checking whether the student's raw output matches that variant instead.
Judge-only checks (Plan.parent_checks) run their probe here too, on the namespace the check
builds from the submission's files; nothing the sandbox reported for them is read.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
from collections import ChainMap
from dataclasses import dataclass, field, fields

from . import checklib, i18n
from .checklib import say
from .execute import CheckRun, Execution
from .feedback import cap_cell_errors, cap_tail, guard_judge_messages, hidden_error, one_line
from .messages import render
from .probe import Plan, PlannedCheck
from .spec import Mistake
from .upstream import Recorder, annotate

RESULT_SCHEMA = 1


@dataclass(frozen=True)
class Expectations:
    expected: dict            # check id -> normalized reference outputs
    variants: dict            # check id -> tuple[(Mistake, normalized outputs)]
    lookups: dict = field(default_factory=dict)  # check id -> names its probe looks up
    standins: dict = field(default_factory=dict)  # check id -> names its probe stands in for


def _run_probe(plan: Plan, planned: PlannedCheck, namespace) -> object:
    probe = getattr(plan.assignment.probes, planned.check.probe)
    inputs = copy.deepcopy(planned.inputs)
    return checklib.normalize(probe(checklib.Names(namespace), **inputs))


def expectations(plan: Plan) -> Expectations:
    """The reference's outputs on every check and, on the checks compared with the reference
    (not property-judged ones, whose outputs are random samples), the outputs of each known
    mistake of the check's question that differ from them: that mistake's evidence.

    Computed single-threaded (BLAS and torch), so two graders on machines with different
    core counts record the same expected values."""
    with single_threaded():
        return _expectations(plan)


def _expectations(plan: Plan) -> Expectations:
    assignment = plan.assignment
    reference = vars(assignment.reference)
    expected, variants, lookups, standins = {}, {}, {}, {}
    for planned in plan.all_checks:
        recorder = Recorder(reference)
        expected[planned.id] = _run_probe(plan, planned, recorder)
        lookups[planned.id] = frozenset(recorder.seen)
        standins[planned.id] = frozenset(recorder.stood_in)
        found = []
        question = assignment.question(planned.check.question)
        for mistake in assignment.mistakes:
            if planned.check.judge or mistake.function not in question.defines:
                continue
            try:
                out = _run_probe(plan, planned, ChainMap({mistake.function: mistake.variant},
                                                         reference))
            except Exception:
                continue  # a variant that crashes on these inputs is no evidence either way
            if checklib.compare(out, expected[planned.id], planned.check.tol):
                found.append((mistake, out))
        variants[planned.id] = tuple(found)
    return Expectations(expected, variants, lookups, standins)


class single_threaded:
    """numpy's BLAS and torch limited to one thread inside the block (the order of a
    multi-threaded sum depends on the core count, and so would the last bits).

    Some of these limits belong to the process (OpenBLAS), some to the calling thread
    (OpenMP: torch), and grading threads (--jobs) enter and leave blocks at their own pace:
    every block sets the limits for its own thread, and only the last block to leave restores
    what was there before the first one entered, so no thread's block ends another's. A
    grading thread that has left its block keeps its own one-thread setting."""

    _lock = threading.Lock()
    _inside = 0
    _saved: tuple = (None, None)

    def __enter__(self):
        from threadpoolctl import threadpool_limits
        cls = type(self)
        with cls._lock:
            limits = threadpool_limits(limits=1)
            torch = sys.modules.get("torch")  # only when an assignment has imported it
            threads = None
            if torch is not None:
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
            if cls._inside == 0:
                cls._saved = (limits, threads)
            cls._inside += 1
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._lock:
            cls._inside -= 1
            if cls._inside == 0:
                limits, threads = cls._saved
                cls._saved = (None, None)
                if threads is not None:
                    sys.modules["torch"].set_num_threads(threads)
                limits.restore_original_limits()
        return False


def named_mistakes(plan: Plan, exp: Expectations, runs: dict) -> dict[str, str]:
    """check id -> the known mistake to name on it.

    A mistake is named only when the submission's outputs match the mistake's on EVERY
    check where the mistake differs from the reference (its evidence), on the checks the
    submission fails: one coincidental value, or a failed check of another kind (a missing
    ValueError next to correct mathematics), names nothing. A run that errored, timed out or
    is missing on a piece of evidence cannot match it. When two mistakes qualify on a check,
    the one with more evidence is named."""
    tol = {p.id: p.check.tol for p in plan.all_checks}
    evidence: dict[str, tuple] = {}
    for check_id, found in exp.variants.items():
        for mistake, out in found:
            evidence.setdefault(mistake.id, []).append((check_id, out))
    chosen: dict[str, tuple[str, int]] = {}
    for mistake_id, items in evidence.items():
        matched = all(_matches(runs.get(check_id), out, tol[check_id]) for check_id, out in items)
        if not matched:
            continue
        for check_id, _ in items:
            if check_id not in chosen or chosen[check_id][1] < len(items):
                chosen[check_id] = (mistake_id, len(items))
    return {check_id: mistake_id for check_id, (mistake_id, _) in chosen.items()}


def _matches(run, variant_out, tol) -> bool:
    if run is None or run.tampered or run.missing or run.error or run.timeout is not None \
            or run.garbage:
        return False
    try:
        return not checklib.compare(run.outputs, variant_out, tol)
    except Exception:  # a malformed output matches nothing
        return False


@dataclass(frozen=True)
class CheckResult:
    id: str
    question: str
    name: str
    hidden: bool
    points: float
    score: float
    status: str                 # passed | failed | missing | error | timeout | not-run
    feedback: tuple[str, ...] = ()          # English lines, label included (instructor files)
    mistake: str | None = None
    messages: tuple = ()                    # the same as messages (any language; no label)


@dataclass(frozen=True)
class QuestionResult:
    id: str
    score: float
    possible: float
    status: str                 # passed | partial | failed
    feedback: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionResult:
    submission: str
    assignment: str
    version: str
    sha256: str
    status: str
    message: str
    total: float
    possible: float
    questions: tuple[QuestionResult, ...]
    checks: tuple[CheckResult, ...]
    cell_errors: tuple[dict, ...] = ()
    seconds: float = 0.0
    sandbox: str = ""
    output: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain data for JSON, as dataclasses.asdict gives it, without its deep copy of every
        leaf (a few milliseconds a result, several times per result and batch): the dict
        shares the result's immutable strings and its messages; treat it as read-only."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["questions"] = tuple(dict(vars(q)) for q in self.questions)
        data["checks"] = tuple(dict(vars(c)) for c in self.checks)
        data["schema"] = RESULT_SCHEMA
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SubmissionResult":
        data = {k: v for k, v in data.items() if k != "schema"}
        data["questions"] = tuple(QuestionResult(**{**q, "feedback": tuple(q["feedback"])})
                                  for q in data["questions"])
        data["checks"] = tuple(CheckResult(**{**c, "feedback": tuple(c["feedback"]),
                                              "messages": tuple(c.get("messages", ()))})
                               for c in data["checks"])
        data["cell_errors"] = tuple(data.get("cell_errors", ()))
        return cls(**data)


def _parent_run(plan: Plan, planned: PlannedCheck, submission) -> CheckRun:
    """A judge-only check's outputs, computed here from the submission's files. A refusal
    (missing, oversized or unloadable file) is the grader's own message about a file the
    student wrote before grading, so it is shown as is, capped, on hidden checks too."""
    try:
        return CheckRun(outputs=_run_probe(plan, planned,
                                           planned.check.parent_namespace(submission)))
    except Exception as exc:
        if isinstance(exc, checklib.WrongReturn) or type(exc).__name__ == "WrongReturn" and \
                isinstance(getattr(exc, "message", None), dict):
            return CheckRun(garbage=exc.message)  # a refusal worded as a message (say(...))
        text = " ".join(str(exc).split())
        return CheckRun(garbage=text[:400] + ("..." if len(text) > 400 else ""))


_WHERE = re.compile(r"cell (\d+), line (\d+): ?(.*)", re.S)


def where_message(where):
    """A traceback location "cell N, line L: code" as a message (the words get translated,
    the code does not); other text is kept as it is."""
    match = _WHERE.fullmatch(str(where)) if where else None
    if not match:
        return where
    return say("cell-line", cell=int(match.group(1)), line=int(match.group(2)),
               code=match.group(3))


def _describe_error(err: dict) -> dict:
    """A public check's exception: type, the student's message and line."""
    return say("raised-error", type=str(err.get("type", "Error")),
               message=f": {err['message']}" if err.get("message") else "",
               where=say("at", where=where_message(err["where"])) if err.get("where") else "")


def _wrong_return(text) -> dict:
    """A probe's WrongReturn message (JSON of a message) read back; other text kept."""
    try:
        message = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return say("text", text=str(text))
    return message if isinstance(message, dict) and isinstance(message.get("m"), str) \
        else say("text", text=str(text))


def check_label(check) -> dict:
    return say("label.hidden" if check.hidden else "label.public",
               name=check.name)


def judge_check(planned: PlannedCheck, run: CheckRun | None, exp: Expectations, plan: Plan,
                execution: Execution, lang: str = "en", mistake: str | None = None
                ) -> CheckResult:
    """One check's result: score, status, messages (structured, for any language) and the
    same feedback as English lines (for the instructor's files). mistake: the known mistake
    named_mistakes found for this check, named if the check fails."""
    check = planned.check
    label = check_label(check)
    english = i18n.catalog("en", plan.assignment)

    def result(status, score=0.0, messages=(), mistake=None):
        lines = tuple(render(say("labelled", label=label, text=m), english) for m in messages)
        if mistake:
            lines += (render(say("likely-mistake", text=say(f"mistake:{mistake}")), english),)
        return CheckResult(planned.id, check.question, check.name, check.hidden, check.points,
                           round(score, 6), status, lines, mistake, tuple(messages))

    if run is None:
        return result("not-run", messages=[say("not-run", why=say(
            f"why.{execution.status}" if execution.status in ("timeout", "oom", "crashed",
                                                              "invalid") else "why.stopped"))])
    if run.tampered:
        return result("failed", messages=[say("tampered")])
    if run.missing:
        note = ""
        if execution.cell_errors:
            first = execution.cell_errors[0]
            note = say("note-cell-raised", cell=first.get("number"),
                       type=str(first.get("type")))
        name = run.missing
        if check.hidden and not any(name in q.defines for q in plan.assignment.questions):
            name = say("a-needed-name")  # the name came out of the sandbox: any text
        return result("missing", messages=[say("not-defined", name=name, note=note)])
    if run.error and run.error.get("type") == "WrongReturn":
        # Raised by the probe, not by the student: say what the return value should be.
        return result("error", messages=[say("wrong-return-hidden") if check.hidden
                                         else _wrong_return(run.error.get("message"))])
    if run.error:
        err = run.error
        if check.hidden:
            # Message, type name and traceback line are text the submission controls; on a
            # hidden check they could carry the hidden inputs onto the feedback page. A
            # built-in type and the line as read from the notebook are enough.
            return result("error", messages=[say("raised", what=hidden_error(
                err, execution.submission.notebook, execution.submission.sha256))])
        return result("error", messages=[say("raised", what=_describe_error(err))])
    if run.timeout is not None:
        if run.timeout <= 0:
            return result("timeout", messages=[say("timeout-share")])
        return result("timeout", messages=[say("stopped-after", seconds=run.timeout)])
    if run.garbage:
        # Unreadable sandbox data may hold any text on a hidden check; a judge-only check's
        # refusal is the grader's own message about the files the student submitted.
        own = any(p.id == planned.id for p in getattr(plan, "parent_checks", ()))
        return result("error", messages=[
            say("unreadable") if check.hidden and not own else
            run.garbage if isinstance(run.garbage, dict) else say("text", text=run.garbage)])
    expected = exp.expected[planned.id]
    if check.judge:
        judge_fn = getattr(plan.assignment.judges, check.judge)
        try:
            fraction, messages = judge_fn(planned.inputs, run.outputs, expected)
        except Exception as exc:  # a malformed output must not crash the batch
            fraction, messages = 0.0, [say("not-judged", type=type(exc).__name__,
                                           error="" if check.hidden else f": {exc}")]
        fraction = min(1.0, max(0.0, float(fraction)))
        status = "passed" if fraction >= 1.0 else "failed"
        messages = [m if isinstance(m, dict) else say("text", text=str(m)) for m in messages]
        if check.hidden:
            # Judges are written per assignment and may print measured sizes (an MSE, an
            # accuracy): whatever could reveal the expected result becomes categorical.
            messages = guard_judge_messages(messages, expected, run.outputs, english)
            if status == "failed" and not messages:
                messages = [say("hidden-mismatch")]
        return result(status, checklib.awarded(check.points, fraction), messages)
    problems = checklib.problems(run.outputs, expected, check.tol)
    if not problems:
        return result("passed", check.points)
    messages = [p.render(check.hidden) for p in problems[:5]]
    return result("failed", messages=messages, mistake=mistake)


def parent_runs(plan: Plan, submission) -> dict[str, CheckRun]:
    """The judge-only checks' outputs for one submission (nothing when there are none). They
    depend on the submission's files only, never on its run, so a grader may compute them
    while the sandbox runs (grader.Grader does)."""
    if not plan.parent_checks:
        return {}
    with single_threaded():  # the same outputs on any machine, as the expected values
        return {p.id: _parent_run(plan, p, submission) for p in plan.parent_checks}


def judge(execution: Execution, plan: Plan, exp: Expectations, lang: str = "en",
          extra: dict | None = None,
          parent: dict[str, CheckRun] | None = None) -> SubmissionResult:
    """parent: parent_runs(plan, execution.submission), when the caller computed them already."""
    assignment = plan.assignment
    runs = {p.id: execution.checks.get(p.id) for p in plan.checks}
    runs.update(parent_runs(plan, execution.submission) if parent is None else parent)
    english = i18n.catalog("en", assignment)
    by_id = {p.id: p.check for p in plan.all_checks}
    named = named_mistakes(plan, exp, runs)
    checks = annotate(tuple(judge_check(p, runs[p.id], exp, plan, execution, lang,
                                        named.get(p.id))
                            for p in plan.all_checks), assignment,
                      {p.id: exp.lookups.get(p.id, ()) for p in plan.checks},
                      execution.submission.notebook,
                      lambda c, note: render(say("labelled", label=check_label(by_id[c.id]),
                                                 text=note), english),
                      exp.standins)
    questions = []
    for q in assignment.questions:
        mine = [c for c in checks if c.question == q.id]
        score = round(sum(c.score for c in mine), 6)
        status = "passed" if score >= q.points - 1e-9 else ("partial" if score > 0 else "failed")
        feedback = tuple(f for c in mine for f in c.feedback)
        questions.append(QuestionResult(q.id, score, q.points, status, feedback))
    total = round(sum(q.score for q in questions), 6)
    extra = dict(extra or {})
    if execution.notice:
        extra["notice"] = list(execution.notice)
    lang = i18n.notebook_language(execution.submission.notebook)
    if lang:  # the language the student reads (presentation only: pages may be redone)
        extra["lang"] = lang
    images = _feedback_images(plan, runs)
    if images:
        extra["images"] = images
    message = execution.message
    cell_errors, unshown = cap_cell_errors(execution.cell_errors)
    if unshown:
        extra["cell_errors_not_shown"] = unshown
    if execution.cell_errors:
        errs = "; ".join(f"cell {e.get('number')}: {one_line(e)}"
                         for e in execution.cell_errors[:3])
        more = len(execution.cell_errors) - 3
        errs += f" (+{more} more)" if more > 0 else ""
        message = (message + "; " if message else "") + "cell errors: " + errs
    return SubmissionResult(
        submission=execution.submission.stem, assignment=assignment.slug,
        version=assignment.version, sha256=execution.submission.sha256,
        status=execution.status, message=message, total=total, possible=assignment.possible,
        questions=tuple(questions), checks=checks, cell_errors=cell_errors,
        seconds=execution.seconds, sandbox=execution.sandbox, output=cap_tail(execution.output),
        extra=extra)


def _feedback_images(plan: Plan, runs: dict, limit: int = 2) -> list[dict]:
    """Pictures for the feedback page, drawn by the assignment's optional feedback.py hook
    (feedback_png(inputs, outputs) -> PNG bytes: the check's images in the top row, the
    model's outputs below, as the page's caption says) from PUBLIC checks only: hidden inputs
    are never shown. Returned as base64 so the result stays plain JSON."""
    import base64
    path = plan.assignment.folder / "feedback.py"
    if not path.exists():
        return []
    from .spec import _load_module
    hook = getattr(_load_module(path, f"neurograde_feedback_{plan.assignment.slug}"),
                   "feedback_png", None)
    images = []
    for planned in plan.all_checks:
        run = runs.get(planned.id)
        if planned.check.hidden or run is None or not isinstance(run.outputs, dict) \
                or "shown" not in run.outputs or hook is None:
            continue
        try:
            png = hook(planned.inputs, run.outputs)
        except Exception:  # a malformed output gets no picture, never a crashed batch
            continue
        images.append({"check": planned.check.name,
                       "png": base64.b64encode(png).decode("ascii")})
        if len(images) >= limit:
            break
    return images
