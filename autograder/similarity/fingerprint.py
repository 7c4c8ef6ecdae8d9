"""Code fingerprints: Python tokens, normalized, hashed as k-grams and winnowed.

Normalization is what makes a renamed copy look like its original:

    identifiers (variables, parameters, functions, imports) -> "$id"
    numbers -> "$num", strings and f-strings -> "$str"
    keywords, operators, builtins (len, zip, float, ValueError...) and attribute names after
    "." (np.where, X.shape) are kept: renaming variables cannot change them
    comments, blank lines, indentation tokens, IPython "%"/"!" lines and statements that are
    only a string (docstrings) are dropped

Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003) keeps the smallest hash of every window
of w consecutive k-gram hashes (the rightmost one on ties). Two streams that share a run of at
least k + w - 1 tokens share a fingerprint (the guarantee threshold); runs shorter than k tokens
are never matched (the noise threshold).
"""

from __future__ import annotations

import builtins
import hashlib
import io
import keyword
import tokenize
from typing import NamedTuple

ID, NUM, STR = "$id", "$num", "$str"
BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING,
         tokenize.ENDMARKER}
# Python 3.12 splits f-strings into several tokens; one f-string is still one literal.
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)


class Token(NamedTuple):
    """One normalized token and where it came from (cell index, 1-based line, columns)."""
    text: str
    cell: int
    line: int
    col: int
    end: int   # end column on `line` (a token spanning lines ends at the end of its first)


class CellTokens(NamedTuple):
    lines: tuple[tuple[Token, ...], ...]   # logical lines, docstrings and comments removed
    note: str | None                       # why the cell was tokenized line by line, if it was


def _strip_magics(source: str) -> str:
    # IPython's "%time", "%%capture", "!pip ..." are not Python; keep the line count.
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.split("\n"))


def _raw_lines(source: str, cell: int, line_offset: int = 0) -> list[list[tuple[int, Token]]]:
    """Logical lines of (token type, Token); raises tokenize.TokenError / SyntaxError."""
    lines: list[list[tuple[int, Token]]] = []
    current: list[tuple[int, Token]] = []
    previous = ""
    fstring_depth = 0
    source_lines = source.split("\n")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, string, (row, col), (end_row, end_col) = tok[:4]
        if kind == _FSTRING_START:
            fstring_depth += 1
            if fstring_depth == 1:
                start = (row, col)
            continue
        if fstring_depth:
            if kind == _FSTRING_END:
                fstring_depth -= 1
                if fstring_depth == 0:
                    kind, (row, col) = tokenize.STRING, start
                else:
                    continue
            else:
                continue
        if kind == tokenize.NEWLINE:
            if current:
                lines.append(current)
            current, previous = [], ""
            continue
        if kind in _SKIP or (kind == tokenize.ERRORTOKEN and not string.strip()):
            continue
        if kind == tokenize.NAME:
            keep = keyword.iskeyword(string) or string in BUILTINS or previous == "."
            text = string if keep else ID
        elif kind == tokenize.NUMBER:
            text = NUM
        elif kind == tokenize.STRING:
            text = STR
        else:
            text = string
        if end_row != row:
            end_col = len(source_lines[row - 1])
        current.append((kind, Token(text, cell, row + line_offset, col, end_col)))
        previous = string
    if current:
        lines.append(current)
    return lines


def _without_bare_strings(lines: list[list[tuple[int, Token]]]) -> tuple[tuple[Token, ...], ...]:
    # A statement that is only a string is a docstring (or a string used as a comment).
    return tuple(tuple(t for _, t in line) for line in lines
                 if not all(kind == tokenize.STRING for kind, _ in line))


def tokenize_cell(source: str, cell: int = 0) -> CellTokens:
    """Normalized logical lines of one code cell.

    A cell Python cannot tokenize (bad indentation, an unclosed string or bracket) is tokenized
    line by line instead, so the rest of the cell still counts; lines that fail on their own
    (inside an unclosed triple-quoted string) are left out.
    """
    source = _strip_magics(source)
    try:
        return CellTokens(_without_bare_strings(_raw_lines(source, cell)), None)
    except (tokenize.TokenError, SyntaxError) as exc:
        reason = exc.args[0] if exc.args else type(exc).__name__
    lines = []
    for number, text in enumerate(source.split("\n")):
        stripped = text.lstrip()
        shift = len(text) - len(stripped)
        try:
            raw = _raw_lines(stripped, cell, line_offset=number)
        except (tokenize.TokenError, SyntaxError):
            continue
        lines += [[(kind, t._replace(col=t.col + shift, end=t.end + shift)) for kind, t in line]
                  for line in raw]
    return CellTokens(_without_bare_strings(lines), f"cell {cell + 1}: Python could not "
                      f"tokenize it ({reason}); compared line by line")


def kgram_hashes(texts: list[str], k: int) -> list[int]:
    """64-bit hash of every run of k consecutive token texts (stable across processes)."""
    return [int.from_bytes(hashlib.blake2b("\x1f".join(texts[i:i + k]).encode(),
                                           digest_size=8).digest(), "big")
            for i in range(len(texts) - k + 1)]


def winnow(hashes: list[int], w: int) -> list[tuple[int, int]]:
    """(hash, position) of the minimum of every window of w hashes, rightmost on ties.

    A stream shorter than one window still gets its minimum, so short code is not invisible.
    """
    if not hashes:
        return []
    if w < 1:
        raise ValueError(f"winnowing window w must be >= 1, got {w}")
    selected: list[tuple[int, int]] = []
    last = -1
    for start in range(max(1, len(hashes) - w + 1)):
        window = hashes[start:start + w]
        low = min(window)
        position = start + len(window) - 1 - window[::-1].index(low)
        if position != last:
            selected.append((low, position))
            last = position
    return selected


def matching_runs(a: list[str], a_hashes: list[int], b: list[str], b_hashes: list[int], k: int,
                  ignore: frozenset[int] | set[int] = frozenset(),
                  max_occurrences: int = 20) -> list[tuple[int, int, int]]:
    """Non-overlapping runs (a_start, b_start, length) of equal tokens, each >= k, by a_start.

    Greedy string tiling in one pass: every pair of positions whose k-grams are equal (and not
    in ignore) starts a candidate run, extended as far as the tokens agree; the longest are
    taken first and a later one is cut where it reaches tokens already taken. Only the pairs
    shown in the report get this, so the quadratic worst case is bounded by max_occurrences
    (positions looked at per k-gram of b).
    """
    where: dict[int, list[int]] = {}
    for j, h in enumerate(b_hashes):
        if h not in ignore and len(where.setdefault(h, [])) < max_occurrences:
            where[h].append(j)
    candidates = []
    for i, h in enumerate(a_hashes):
        for j in where.get(h, ()):
            length = 0
            while i + length < len(a) and j + length < len(b) and a[i + length] == b[j + length]:
                length += 1
            if length >= k:
                candidates.append((-length, i, j))
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    runs = []
    for negative, i, j in sorted(candidates):
        length = 0
        while length < -negative and i + length not in taken_a and j + length not in taken_b:
            length += 1
        if length >= k:
            runs.append((i, j, length))
            taken_a.update(range(i, i + length))
            taken_b.update(range(j, j + length))
    return sorted(runs)
