"""Blame where it belongs: a check that fails because it calls an earlier question's function.

A later question's function often calls an earlier one's (backward calls tanh_derivative).
When the earlier question does not pass its own checks, a failed later check may be nothing
but that mistake again, so its feedback says so. Which functions a check reaches is found
without running student code: the names the check's probe looks up (recorded while the
parent computes the expected values on the reference) and, from there, the names each of
the student's own functions mentions in the submitted notebook (read with ast).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from .checklib import say
from .execute import notebook_cells

MAX_CELL_CHARS = 200_000


class Recorder(Mapping):
    """A namespace that remembers which names were looked up in it."""

    def __init__(self, namespace: Mapping):
        self._namespace, self.seen = namespace, set()
        self.stood_in = set()  # names a probe replaced by stand-ins (Names.standing_in)

    def __getitem__(self, name):
        self.seen.add(name)
        return self._namespace[name]

    def __contains__(self, name):
        self.seen.add(name)
        return name in self._namespace

    def __iter__(self):
        return iter(self._namespace)

    def __len__(self):
        return len(self._namespace)


def _source(cell: str) -> str:
    # IPython lines (%magic, !shell) are not Python; they define nothing.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in cell.splitlines())


def mentions(notebook) -> dict[str, set[str]]:
    """name of each function the notebook defines -> names its body mentions."""
    graph: dict[str, set[str]] = {}
    try:
        cells = notebook_cells(notebook)
    except (ValueError, OSError):
        return graph
    for cell in cells:
        if len(cell["source"]) <= MAX_CELL_CHARS:
            key = hashlib.sha256(cell["source"].encode("utf-8", "surrogatepass")).digest()
            graph.update({name: set(names) for name, names in _cell_functions(key, cell)})
    return graph


_CACHE_LOCK = threading.Lock()
_CACHE: OrderedDict[bytes, tuple] = OrderedDict()
CACHE_CELLS = 4096


def _cell_functions(key: bytes, cell: dict) -> tuple[tuple[str, frozenset[str]], ...]:
    """(function name, names its body mentions) for each function one cell defines, in
    order. Remembered by the cell's digest: a batch's notebooks share most cells (the set-up
    cell, the given code), which are then parsed once, not once per submission."""
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        tree = ast.parse(_source(cell["source"]))
        found = tuple((node.name, frozenset(n.id for n in ast.walk(node)
                                            if isinstance(n, ast.Name)))
                      for node in ast.walk(tree)
                      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        found = ()
    with _CACHE_LOCK:
        _CACHE[key] = found
        while len(_CACHE) > CACHE_CELLS:
            _CACHE.popitem(last=False)
    return found


def reached(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def annotate(checks: tuple, assignment, lookups: dict, notebook, english_line,
             standins: dict | None = None) -> tuple:
    """checks, each failed one with a note per earlier question's function it reaches whose
    question does not pass (only when some check failed: a notebook is read only then).
    english_line(check, message) words a note for the instructor's English lines.
    standins: check id -> names its probe replaced by stand-ins while it ran; the student's
    own functions of those names were not used, so they are never blamed (nor what they
    call)."""
    # Only checks whose probe ran the submission's code: not a missing name, a run that
    # stopped, or a judge-only check (which calls the course's code on the student's files).
    failed = [c for c in checks if c.score < c.points - 1e-9 and c.id in lookups
              and c.status in ("failed", "error")]
    if not failed:
        return checks
    owner = {name: q.id for q in assignment.questions for name in q.defines}
    order = {q.id: i for i, q in enumerate(assignment.questions)}
    broken = {c.question for c in failed}
    graph = mentions(notebook)
    out = []
    for check in checks:
        if check not in failed:
            out.append(check)
            continue
        skip = set((standins or {}).get(check.id, ()))
        names = reached(set(lookups.get(check.id, ())) - skip,
                        {k: v - skip for k, v in graph.items() if k not in skip})
        culprits = [name for name in names if name in owner and owner[name] in broken
                    and order[owner[name]] < order[check.question]]
        notes = [say("upstream", function=name, question=owner[name])
                 for name in sorted(culprits, key=lambda n: (order[owner[n]], n))]
        out.append(dataclasses.replace(
            check, messages=check.messages + tuple(notes),
            feedback=check.feedback + tuple(english_line(check, n) for n in notes))
            if notes else check)
    return tuple(out)
