"""Which language a student reads, and the message catalogs for it (trusted side).

The catalogs are TOML tables per language: templates/messages.toml (the engine: comparisons,
statuses, check labels) and assignments/<slug>/messages.toml (an assignment's judge messages
and, under [<lang>.checks], the names of its checks). English is complete; another language
falls back to English only where a test would already have failed. What grade and merge print
on the terminal is worded from templates/cli_i18n.toml (cli_text, status_word).
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from .spec import LANGUAGES, TEMPLATES_DIR, Assignment

ENGINE_CATALOG = TEMPLATES_DIR / "messages.toml"
CLI_TEXTS = TEMPLATES_DIR / "cli_i18n.toml"
PAGE_LABELS = TEMPLATES_DIR / "report_i18n.toml"


@lru_cache(maxsize=None)
def _tables(path: str) -> dict:
    file = Path(path)
    return tomllib.loads(file.read_text(encoding="utf-8")) if file.exists() else {}


def engine_table(lang: str) -> dict:
    return dict(_tables(str(ENGINE_CATALOG)).get(lang, {}))


def assignment_table(assignment: Assignment, lang: str) -> dict:
    """The assignment's own keys in one language: judge messages, "check:<name>" and
    "mistake:<id>" (check names fall back to the English name, mistakes to English)."""
    table = _tables(str(assignment.folder / "messages.toml")).get(lang, {})
    flat = {k: v for k, v in table.items() if isinstance(v, str)}
    if lang == "en":
        flat.update({f"check:{c.name}": c.name for c in assignment.checks_for(None)})
    flat.update({f"check:{name}": text for name, text in table.get("checks", {}).items()})
    # A mistake's text has no fields: its braces ("x_{n+1}") are text, not str.format fields.
    flat.update({f"mistake:{m.id}": m.message[lang].replace("{", "{{").replace("}", "}}")
                 for m in assignment.mistakes if lang in m.message})
    return flat


@lru_cache(maxsize=64)
def _catalog(lang: str, slug: str | None) -> MappingProxyType:
    from .spec import load_assignment
    merged = engine_table("en")
    if lang != "en":
        merged.update(engine_table(lang))
    if slug is not None:
        assignment = load_assignment(slug)
        merged.update(assignment_table(assignment, "en"))
        if lang != "en":
            merged.update(assignment_table(assignment, lang))
    return MappingProxyType(merged)


def catalog(lang: str, assignment: Assignment | str | None = None) -> MappingProxyType:
    """key -> template for lang, English underneath; with an assignment, its keys too
    (read-only, cached: judging renders every check's feedback with it)."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not supported; choose one of "
                         f"{', '.join(LANGUAGES)}")
    slug = assignment if isinstance(assignment, str) or assignment is None else assignment.slug
    return _catalog(lang, slug)


def say_in(lang: str, message, assignment=None) -> str:
    """A message (or plain string) as text in lang."""
    from .messages import render
    return render(message, catalog(lang, assignment))


def notebook_language(notebook: Path) -> str | None:
    """The language a released notebook was written in (its neurograde metadata), if it is
    one we speak; None for an unreadable notebook or one without the tag."""
    try:
        with open(notebook, encoding="utf-8") as fh:
            data = json.load(fh)
        lang = data.get("metadata", {}).get("neurograde", {}).get("lang")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return lang if lang in LANGUAGES else None


def cli_text(lang: str | None, key: str, **params) -> str:
    """A line (or part of one) that grade or merge print, in lang (None: English)."""
    table = _tables(str(CLI_TEXTS))
    template = table.get(lang or "en", {}).get(key) or table["en"][key]
    return template.format(**params)


def status_word(lang: str | None, status: str) -> str:
    """A run status as the terminal shows it: in English the stored name (what grades.csv
    holds), in another language the pages' word for it."""
    if not lang or lang == "en":
        return status
    return _tables(str(PAGE_LABELS)).get(lang, {}).get(f"status_{status}", status)


# The variable parts of a check name: a normal law N(...) or a mixture of them, an analogy
# a:b::c, a number, a
# quoted word. A per-student variant's check is named like the canonical one with its own
# parts ("glorot_normal(91, 292): ..."), so its translation is the canonical translation with
# those parts put back in.
_SLOT = re.compile(r"(?:[\d.]+ )?N\([^()]*\)(?: \+ (?:[\d.]+ )?N\([^()]*\))*|[\w-]+:[\w-]+::[\w-]+|-?\d+(?:\.\d+)?(?:e-?\d+)?|'[^']*'")


@lru_cache(maxsize=64)
def _name_patterns(lang: str, slug: str) -> tuple:
    table = catalog(lang, slug)
    patterns = []
    for key, text in table.items():
        if not key.startswith("check:"):
            continue
        english = key[len("check:"):]
        slots = _SLOT.findall(english)
        if not slots or _SLOT.findall(text) != slots:
            continue  # its translation must carry the same parts in the same order
        regex = "".join(re.escape(part) if i % 2 == 0 else f"({_SLOT.pattern})"
                        for i, part in enumerate(_split(english)))
        patterns.append((re.compile(regex + r"\Z"), _split(text)))
    return tuple(patterns)


def _split(text: str) -> list[str]:
    """text cut at its variable parts: [fixed, slot, fixed, slot, ..., fixed]."""
    parts, last = [], 0
    for match in _SLOT.finditer(text):
        parts += [text[last:match.start()], match.group()]
        last = match.end()
    return parts + [text[last:]]


def check_name(name: str, lang: str, assignment: Assignment | str) -> str:
    """A check's name in lang: its translation, or for a variant's check the canonical
    check's translation with the variant's numbers (and quoted words); else the name."""
    slug = assignment if isinstance(assignment, str) else assignment.slug
    table = catalog(lang, slug)
    if f"check:{name}" in table:
        return table[f"check:{name}"]
    for regex, parts in _name_patterns(lang, slug):
        match = regex.match(name)
        if match:
            values = iter(match.groups())
            return "".join(part if i % 2 == 0 else next(values) for i, part in enumerate(parts))
    return name
