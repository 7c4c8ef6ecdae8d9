"""What feedback may say: hidden checks speak in categories, long texts are capped.

Everything here runs in the trusted parent, on what came out of the sandbox. A hidden check's
inputs are secret and its expected value follows from them, while the submission controls its
own outputs, exception texts and printed text, so a submission could try to write the hidden
inputs (or the expected value, through the error sizes the judge reports) into its own
feedback. judge.py therefore words hidden checks with checklib.Problem.hidden (kinds of
mistakes, no numbers from the expected value, the error or the tolerance), passes property
judges' messages through guard_judge_messages, and shows the student's own line only as read
from the notebook the parent holds. Cell errors and printed output are capped so that a
notebook cannot flood its feedback page; report.py applies the caps again to results stored
by earlier versions.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import checklib
from .execute import notebook_cells
from .messages import render

CELL_ERROR_LINES = 5        # per cell error message on the page, the JSON and grades.csv
CELL_ERROR_CHARS = 400
CELL_ERRORS_SHOWN = 10      # cell errors kept per submission; the rest are counted
OUTPUT_LINES = 40           # tail of the printed output kept in the results JSON
OUTPUT_CHARS = 4000
WHERE_CHARS = 200
HIDDEN_JUDGE_MESSAGE = checklib.say("hidden-mismatch")


# ---------------------------------------------------------------------------- caps

_MARKER = re.compile(r"\[\.\.\. \d+ more lines?\]")

def cap_head(text: str, lines: int = CELL_ERROR_LINES, chars: int = CELL_ERROR_CHARS) -> str:
    """The first `lines` lines and at most `chars` characters of text, then a marker saying
    how much was left out: "[... N more lines]" (or "[... N more characters]")."""
    text = str(text)
    all_lines = text.splitlines()
    if len(all_lines) <= lines and len(text) <= chars:
        return text
    if len(all_lines) == lines + 1 and _MARKER.fullmatch(all_lines[-1]) and \
            len(text) <= chars + len(all_lines[-1]) + 2:
        return text  # capped already (a result stored earlier, rendered again)
    kept = all_lines[:max(1, lines)]
    while len(kept) > 1 and len("\n".join(kept)) > chars:
        kept.pop()
    cut = max(0, len(kept[0]) - chars) if kept else 0
    if cut:
        kept[0] = kept[0][:chars]
    more = len(all_lines) - len(kept)
    if more:
        return "\n".join(kept) + ("…" if cut else "") + \
            f"\n[... {more} more line{'s' * (more != 1)}]"
    return kept[0] + f" [... {cut} more characters]"


def cap_tail(text: str, lines: int = OUTPUT_LINES, chars: int = OUTPUT_CHARS) -> str:
    """The last `lines` lines and at most `chars` characters of text, after a marker saying
    how much came before them: "[... N more lines]" (or "[... N more characters]")."""
    text = str(text)
    all_lines = text.splitlines()
    if len(all_lines) <= lines and len(text) <= chars:
        return text
    kept = all_lines[-max(1, lines):]
    while len(kept) > 1 and len("\n".join(kept)) > chars:
        kept.pop(0)
    cut = max(0, len(kept[-1]) - chars) if kept else 0
    if cut:
        kept[-1] = kept[-1][-chars:]
    more = len(all_lines) - len(kept)
    if more:
        return f"[... {more} more line{'s' * (more != 1)}]\n" + ("…" if cut else "") + \
            "\n".join(kept)
    return f"[... {cut} more characters] " + kept[-1]


def cap_cell_error(err: dict) -> dict:
    """A cell error with its message capped to a few lines and its location to one line."""
    where = err.get("where")
    return {**err,
            "type": str(err.get("type") or "Error")[:100],
            "message": cap_head(err["message"]) if err.get("message") else err.get("message"),
            "where": cap_head(where, 1, WHERE_CHARS) if where else where}


def cap_cell_errors(errors) -> tuple[tuple[dict, ...], int]:
    """(the first CELL_ERRORS_SHOWN cell errors, each capped; how many more there were)."""
    errors = tuple(errors)
    return (tuple(cap_cell_error(e) for e in errors[:CELL_ERRORS_SHOWN]),
            max(0, len(errors) - CELL_ERRORS_SHOWN))


def one_line(err: dict, limit: int = 120) -> str:
    """A cell or check error as one short line (for the gradebook's message column)."""
    message = str(err.get("message") or "").strip().splitlines()
    text = str(err.get("type") or "Error")[:100] + (f": {message[0]}" if message else "")
    if len(message) > 1:
        text += " [...]"
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    where = err.get("where")
    return text + (f" (at {cap_head(where, 1, WHERE_CHARS)})" if where else "")


# ---------------------------------------------------------------------------- hidden checks

_WHERE = re.compile(r"cell (\d+), line (\d+)\b")


@lru_cache(maxsize=8)  # a batch judges one submission at a time per thread
def _cells(path: str, sha256: str) -> dict[int, list[str]]:
    try:
        return {c["number"]: c["source"].splitlines() for c in notebook_cells(Path(path))}
    except ValueError:
        return {}


def student_line(where: str | None, notebook: Path, sha256: str) -> dict | None:
    """'cell N, line L: code' (a message) with the code read from the submitted notebook.

    The location a sandbox reports is text the submission can shape (a traceback line can be
    made to say anything), so for hidden checks only the cell and line numbers are taken from
    it, and only when they point into the notebook."""
    match = _WHERE.match(where or "")
    if not match:
        return None
    number, line = int(match.group(1)), int(match.group(2))
    lines = _cells(str(notebook), sha256).get(number)
    if not lines or not 1 <= line <= len(lines):
        return None
    return checklib.say("cell-line", cell=number, line=line,
                        code=cap_head(lines[line - 1].strip(), 1, WHERE_CHARS))


def hidden_error(err: dict, notebook: Path, sha256: str) -> dict:
    """A hidden check's exception: its type (if built in) and the student's own line."""
    where = student_line(err.get("where"), notebook, sha256)
    return checklib.say("raised-error", type=checklib.exception_name(err.get("type"), True),
                        message="", where=checklib.say("at", where=where) if where else "")


_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?|\.\d+)([eE][-+]?\d+)?(%?)")


def _expected_integers(value, found: set, budget: list) -> set:
    """|n| for the integers n that equal a value in expected or round one of its scalars (a
    message's digits carry no sign: "-3" is read as 3)."""
    if budget[0] <= 0:
        return found
    if isinstance(value, dict):
        for v in value.values():
            _expected_integers(v, found, budget)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _expected_integers(v, found, budget)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        flat = value.ravel()[:budget[0]].astype(np.float64)
        budget[0] -= flat.size
        flat = flat[np.isfinite(flat)]
        found.update(abs(int(v)) for v in np.unique(flat[flat == np.round(flat)])
                     if abs(v) < 1e15)
        if flat.size == 1 and abs(flat[0]) < 1e15:
            found.add(abs(int(round(float(flat[0])))))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and abs(value) < 1e15:
            found.update({abs(int(round(value))), abs(int(math.floor(value)))})
    return found


def _output_strings(value, found: set) -> set:
    """Texts in the submission's outputs (strings, descriptions of unsupported values)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _output_strings(v, found)
    elif isinstance(value, (list, tuple)):
        for v in value[:1000]:
            _output_strings(v, found)
    elif isinstance(value, str) and len(value.strip()) >= 3:
        found.add(value.strip())
    elif isinstance(value, checklib.Opaque):
        found.add(value.description)
    return found


def judge_message_leaks(message: str, expected, outputs) -> bool:
    """Whether a property judge's message may carry hidden information: a non-integer number,
    an exponent or a percentage (a measured size), an integer that equals a number of the
    expected value, or a text the submission returned."""
    return _leaks(str(message), _expected_integers(expected, set(), [1_000_000]),
                  _output_strings(outputs, set()))


def _leaks(message: str, numbers: set, texts: set) -> bool:
    for whole, exponent, percent in _NUMBER.findall(message):
        if "." in whole or exponent or percent or int(whole) in numbers:
            return True
    return any(text in message for text in texts)


def guard_judge_messages(messages, expected, outputs, catalog=None) -> list:
    """A hidden check's judge messages with every possibly leaking one replaced (once) by
    HIDDEN_JUDGE_MESSAGE. A message is judged by its English wording (catalog): the
    translations carry the same parameters."""
    if not messages:
        return []
    if catalog is None:
        from .i18n import catalog as load
        catalog = load("en")
    numbers = _expected_integers(expected, set(), [1_000_000])
    texts = _output_strings(outputs, set())
    kept, replaced = [], False
    for message in messages:
        if _leaks(render(message, catalog), numbers, texts):
            if not replaced:
                kept.append(HIDDEN_JUDGE_MESSAGE)
            replaced = True
        else:
            kept.append(message)
    return kept
