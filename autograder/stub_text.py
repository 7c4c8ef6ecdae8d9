"""Stub docstrings and comments in the notebook's language.

stubs.py stays the one English source of an assignment's code cells. Its translatable texts
are the docstrings, the blocks of full-line comments (consecutive comment lines at one
indentation) and the end-of-line comments. assignments/<slug>/text/stubs.toml pairs each of
them, keyed by its English text the way gettext keys a message, with its translations:

    [[text]]
    en = '''Fraction of positions where y_pred equals y_true...'''
    es = '''Fracción de posiciones en las que y_pred coincide con y_true...'''
    pt = '''...'''

A docstring is written without its quotes and common indentation, a comment without its
"# " prefixes. Keying by the English text means an edited stub no longer matches a stale
translation: its English text stays (never a wrong translation) and `untranslated` names it,
which tests/test_student_text.py turns into a failure. Code, names, parameters and shapes are
never touched; translations keep API names, shapes and formulas in English.

The texts are translated before the setup section is rendered with jinja2 (a translation may
carry the same {{ v.name }} placeholders as its English text).
"""

from __future__ import annotations

import inspect
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .spec import Assignment, SpecError

TABLE = "stubs.toml"
_DOC_OPEN = re.compile(r'^(\s*)"""(.*)$')
_COMMENT_LINE = re.compile(r"^(\s*)#(?: ?)(.*)$")


@dataclass(frozen=True)
class Text:
    kind: str       # "docstring" | "comment" | "end-of-line comment"
    en: str
    line: int       # 1-based line in the section where the text starts


def _is_label(text: str) -> bool:
    """A comment that is one word or fewer (a row label such as "# man", a name): not prose."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) < 2


def _end_comment(line: str) -> int | None:
    """Index of the '#' that starts an end-of-line comment outside string literals, if any."""
    quote, escaped = None, False
    for i, ch in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif line.startswith(('"""', "'''"), i):
            return None  # a line that opens a multi-line string carries no comment we touch
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return i if i > 0 and line[:i].strip() and line[i - 1].isspace() else None
    return None


def _walk(source: str, translate=None) -> tuple[str, list[Text]]:
    """The texts of a stub section and, with translate (English -> text or None), the
    section with each text replaced by its translation (untranslated texts stay English)."""
    lines = source.split("\n")
    out: list[str] = []
    found: list[Text] = []

    def swap(text: str) -> str:
        new = translate(text) if translate else None
        return text if new is None else new

    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _DOC_OPEN.match(line)
        if opened:
            indent, rest = opened.groups()
            if '"""' in rest:  # one-line docstring
                body, tail = rest.split('"""', 1)
                found.append(Text("docstring", body.strip(), i + 1))
                new = swap(body.strip())
                if "\n" in new:
                    out += _docstring(indent, new, tail, closing_alone=True)
                else:
                    out.append(f'{indent}"""{new}"""{tail}')
                i += 1
                continue
            j = i + 1
            while j < len(lines) and '"""' not in lines[j]:
                j += 1
            if j == len(lines):
                raise SpecError(f"stub docstring opened at line {i + 1} is never closed")
            last_body, tail = lines[j].split('"""', 1)
            raw = "\n".join([rest, *lines[i + 1:j], last_body])
            english = inspect.cleandoc(raw)
            found.append(Text("docstring", english, i + 1))
            out += _docstring(indent, swap(english), tail, closing_alone=not last_body.strip())
            i = j + 1
            continue
        comment = _COMMENT_LINE.match(line)
        if comment:
            indent = comment.group(1)
            j, block = i, []
            while j < len(lines):
                more = _COMMENT_LINE.match(lines[j])
                if not more or more.group(1) != indent:
                    break
                block.append(more.group(2).rstrip())
                j += 1
            english = "\n".join(block)
            if _is_label(english):
                out += lines[i:j]
            else:
                found.append(Text("comment", english, i + 1))
                out += [f"{indent}# {t}".rstrip() for t in swap(english).split("\n")]
            i = j
            continue
        at = _end_comment(line)
        if at is not None:
            english = line[at + 1:].strip()
            if not _is_label(english):
                found.append(Text("end-of-line comment", english, i + 1))
                line = f"{line[:at]}# {swap(english)}"
        out.append(line)
        i += 1
    return "\n".join(out), found


def _docstring(indent: str, text: str, tail: str, closing_alone: bool) -> list[str]:
    body = text.split("\n")
    rows = [f'{indent}"""{body[0]}'] + [f"{indent}{b}".rstrip() for b in body[1:]]
    if closing_alone:
        return rows + [f'{indent}"""{tail}']
    rows[-1] += f'"""{tail}'
    return rows


def texts(source: str) -> list[Text]:
    """The translatable texts of a stub section, in order."""
    return _walk(source)[1]


def translate(source: str, lookup) -> str:
    """source with each text replaced by lookup(English text) (None keeps the English)."""
    return _walk(source, lookup)[0]


@lru_cache(maxsize=None)
def _table(path: Path, mtime: float) -> dict[str, dict[str, str]]:
    data = tomllib.loads(path.read_text())
    table = {}
    for k, entry in enumerate(data.get("text", [])):
        if "en" not in entry:
            raise SpecError(f"{path}: [[text]] entry {k + 1} has no 'en'")
        table[entry["en"].strip("\n")] = {lang: value.strip("\n")
                                          for lang, value in entry.items() if lang != "en"}
    return table


def table(assignment: Assignment) -> dict[str, dict[str, str]]:
    """English text -> {lang: translation} from the assignment's text/stubs.toml (or {})."""
    path = assignment.folder / "text" / TABLE
    if not path.exists():
        return {}
    return _table(path, path.stat().st_mtime)


def stub_sections(assignment: Assignment, lang: str) -> dict[str, str]:
    """The stub sections with their docstrings and comments in lang (English stays where a
    text has no translation; `untranslated` lists those)."""
    sections = assignment.stub_sections()
    if lang == "en":
        return sections
    known = table(assignment)

    def lookup(text: str) -> str | None:
        return known.get(text, {}).get(lang)

    return {name: translate(source, lookup) for name, source in sections.items()}


def untranslated(assignment: Assignment, lang: str) -> list[str]:
    """'section line N: kind "start of text"' for each stub text without a lang translation."""
    known = table(assignment)
    missing = []
    for name, source in assignment.stub_sections().items():
        for text in texts(source):
            if lang not in known.get(text.en, {}):
                start = text.en.split("\n")[0][:60]
                missing.append(f"{name} line {text.line}: {text.kind} {start!r}")
    return missing
