"""The message catalogs are complete: every message key the code says exists in English, every
English template has a Spanish and a Portuguese one with the same fields, every check has a
name in each language, and wrong submissions' judge and probe messages render in es and pt with
every field filled (no raw key, no "?" placeholder)."""

from __future__ import annotations

import ast
import string
import tomllib
from pathlib import Path

import pytest

from neurograde.i18n import ENGINE_CATALOG, catalog
from neurograde.messages import render
from neurograde.spec import ASSIGNMENTS_DIR, LANGUAGES, ROOT, known_slugs, load_assignment
from message_cases import CASES, autoencoder_refusals, embeddings_refusals

SLUGS = known_slugs()
GENERATED = ("check:", "mistake:")  # keys i18n builds from checks.py and mistakes.py


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _tables(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _flat(table: dict) -> dict[str, str]:
    return {k: v for k, v in table.items() if isinstance(v, str)}


# ---------------------------------------------------------------------------- (a) keys said

def _said(tree: ast.AST):
    """(kind, text, line) for what each say(...) call names: kind "key" for a literal key,
    "prefix"/"suffix" for a key built with + or an f-string around a literal part."""
    def first_arg(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield "key", node.value
        elif isinstance(node, ast.IfExp):
            yield from first_arg(node.body)
            yield from first_arg(node.orelse)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
                yield "prefix", node.left.value
            elif isinstance(node.right, ast.Constant) and isinstance(node.right.value, str):
                yield "suffix", node.right.value
        elif isinstance(node, ast.JoinedStr) and node.values and \
                isinstance(node.values[0], ast.Constant):
            yield "prefix", node.values[0].value

    # a function may bind `say` to another catalog's lookup (say = partial(cli_text, lang))
    rebound = [range(f.lineno, f.end_lineno + 1) for f in ast.walk(tree)
               if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                   isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "say"
                                                     for t in n.targets)
                   for n in ast.walk(f))]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and (
                getattr(node.func, "id", None) == "say" or
                getattr(node.func, "attr", None) == "say") and \
                not any(node.lineno in lines for lines in rebound):
            for kind, text in first_arg(node.args[0]):
                yield kind, text, node.lineno


def _slug_literals(tree: ast.AST, slug: str):
    """String literals of an assignment's judges/probes that name one of its message keys
    (or a family of them, "<slug>.codes-shape."), wherever they are passed around."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value.startswith(slug + ".") and " " not in node.value and \
                not node.value.endswith((".pt", ".py", ".txt", ".npz", ".npy")):
            yield node.value, node.lineno


def _sources():
    for path in sorted((ROOT / "autograder").glob("*.py")) + \
            sorted((ROOT / "autograder" / "inside").glob("*.py")) + \
            sorted(ASSIGNMENTS_DIR.glob("*/*.py")):
        if path.name == "stubs.py":  # the student's code as a template, not Python yet
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _english_keys(slug: str | None) -> set[str]:
    keys = set(_flat(_tables(ENGINE_CATALOG).get("en", {})))
    if slug:
        keys |= set(_flat(_tables(ASSIGNMENTS_DIR / slug / "messages.toml").get("en", {})))
    return keys


def _unknown(kind: str, text: str, keys: set[str]) -> bool:
    if kind == "key":
        return text not in keys and not text.startswith(GENERATED)
    if kind == "prefix":
        return not text.startswith(GENERATED) and not any(k.startswith(text) for k in keys)
    return not any(k.endswith(text) for k in keys)


def test_every_key_said_is_in_the_english_catalog():
    """Does every key a say(...) call names (literally, or as the fixed part of a built key)
    exist in the English catalog: templates/messages.toml for the engine's keys (checked once
    that file exists), assignments/<slug>/messages.toml for "<slug>." keys?"""
    engine_ready = ENGINE_CATALOG.exists()
    missing = []
    for path, tree in _sources():
        slug = path.parent.name if path.parent.parent == ASSIGNMENTS_DIR else None
        keys = _english_keys(slug)
        for kind, text, line in _said(tree):
            owner = next((s for s in SLUGS if text.startswith(s + ".")), None)
            if owner is None and not engine_ready:
                continue  # the engine catalog is not written yet
            if owner is not None and owner != slug:
                keys_here = keys | _english_keys(owner)
            else:
                keys_here = keys
            if _unknown(kind, text, keys_here):
                missing.append(f"{path.relative_to(ROOT)}:{line}: {kind} {text!r}")
        if slug:
            for text, line in _slug_literals(tree, slug):
                if text not in keys and not any(k.startswith(text if text.endswith(".")
                                                             else text + ".") for k in keys):
                    missing.append(f"{path.relative_to(ROOT)}:{line}: literal {text!r}")
    assert not missing, "keys missing from the English catalog:\n" + "\n".join(missing)


def test_the_key_scan_sees_the_judges():
    """The scan of (a) finds the assignments' say(...) calls, so an empty scan cannot pass."""
    found = {path.parent.name for path, tree in _sources()
             if path.parent.parent == ASSIGNMENTS_DIR and any(True for _ in _said(tree))}
    assert {"autoencoder", "backprop", "embeddings", "gan", "glorot",
            "gradient_descent"} <= found


# ---------------------------------------------------------------------------- (b) languages

def _catalog_files():
    files = [ENGINE_CATALOG] if ENGINE_CATALOG.exists() else []
    return files + sorted(ASSIGNMENTS_DIR.glob("*/messages.toml"))


@pytest.mark.parametrize("path", _catalog_files(), ids=lambda p: p.parent.name)
def test_every_english_template_is_translated_with_the_same_fields(path):
    """Does every English key of the catalog have a Spanish and a Portuguese template with the
    same format fields (and no key exist only in a translation), and does every template
    format cleanly?"""
    tables = _tables(path)
    english = _flat(tables.get("en", {}))
    problems = []
    for lang in LANGUAGES[1:]:
        other = _flat(tables.get(lang, {}))
        for key, template in english.items():
            if key not in other:
                problems.append(f"[{lang}] lacks {key!r}")
            elif _fields(other[key]) != _fields(template):
                problems.append(f"[{lang}] {key!r} has fields {sorted(_fields(other[key]))}, "
                                f"English has {sorted(_fields(template))}")
        problems += [f"[{lang}] has {key!r}, which English lacks"
                     for key in other.keys() - english.keys()]
    for lang in LANGUAGES:
        for key, template in _flat(tables.get(lang, {})).items():
            try:
                list(string.Formatter().parse(template))
            except ValueError as exc:
                problems.append(f"[{lang}] {key!r} is not a valid template: {exc}")
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def test_assignment_keys_carry_their_slug():
    """An assignment's catalog defines only "<slug>." keys, so that two assignments (and the
    engine) can never overwrite each other's wording."""
    for path in ASSIGNMENTS_DIR.glob("*/messages.toml"):
        slug = path.parent.name
        for lang, table in _tables(path).items():
            stray = [k for k in _flat(table) if not k.startswith(slug + ".")]
            assert not stray, (path, lang, stray)


# ---------------------------------------------------------------------------- (c) check names

@pytest.mark.parametrize("slug", SLUGS)
def test_every_check_has_a_name_in_each_language(slug):
    """Has every check of the assignment (public and hidden, canonical variant) a Spanish and a
    Portuguese name, and does every translated name belong to an existing check?"""
    assignment = load_assignment(slug)
    names = {c.name for c in assignment.checks_for(None)}
    tables = _tables(assignment.folder / "messages.toml")
    for lang in LANGUAGES[1:]:
        translated = tables.get(lang, {}).get("checks", {})
        assert not names - translated.keys(), (lang, sorted(names - translated.keys()))
        assert not translated.keys() - names, (lang, "stale", sorted(translated.keys() - names))
        assert all(isinstance(v, str) and v.strip() for v in translated.values())
        shown = catalog(lang, slug)
        assert all(shown[f"check:{name}"] == translated[name] for name in names)


# ---------------------------------------------------------------------------- (d) rendering

def _unfilled(message, table: dict, path="message") -> list[str]:
    """What keeps a message from rendering fully: an unknown key or a field without a value,
    in the message or in a message nested in its parameters."""
    if isinstance(message, str):
        return []
    if isinstance(message, (list, tuple)):
        return [p for i, m in enumerate(message) for p in _unfilled(m, table, f"{path}[{i}]")]
    key = message.get("m")
    if key not in table:
        return [f"{path}: unknown key {key!r}"]
    found = [f"{path}: {key} has no value for {{{name}}}"
             for name in _fields(table[key]) if name not in message]
    for name, value in message.items():
        if isinstance(value, dict) and "m" in value or \
                isinstance(value, list) and value and isinstance(value[0], dict):
            found += _unfilled(value, table, f"{path}.{name}")
    return found


def _rendered(slug: str, messages) -> dict[str, list[str]]:
    """The messages as text per language, after checking that every field is filled."""
    out = {}
    for lang in LANGUAGES:
        table = catalog(lang, slug)
        for message in messages:
            assert not _unfilled(message, table), (lang, _unfilled(message, table))
        out[lang] = [render(m, table) for m in messages]
        for message, text in zip(messages, out[lang]):
            assert text and "{" not in text and text != message.get("m"), (lang, text)
    return out


def test_every_assignment_with_judges_is_exercised():
    """The judge cases below cover every assignment that has property judges."""
    assert {s for s in SLUGS if load_assignment(s).judges_path} == set(CASES)


@pytest.mark.parametrize("slug", sorted(CASES))
def test_wrong_outputs_give_judge_messages_in_every_language(slug):
    """Judged on made-up wrong outputs, the assignment's property judges fail with messages
    that render in en, es and pt with every field filled; the es and pt texts are not the
    English ones; across the cases every judge of the assignment fails at least once."""
    judges = load_assignment(slug).judges
    failed, translated = set(), 0
    for name, inputs, outputs, expected in CASES[slug]():
        fraction, messages = getattr(judges, name)(inputs, outputs, expected)
        if fraction >= 1.0:
            continue
        assert messages, (name, outputs)
        failed.add(name)
        texts = _rendered(slug, messages)
        for lang in ("es", "pt"):
            translated += sum(a != b for a, b in zip(texts[lang], texts["en"]))
    used = {c.judge for c in load_assignment(slug).checks_for(None) if c.judge}
    assert used <= failed, sorted(used - failed)
    assert translated > 0


def test_probe_refusals_render_in_every_language():
    """A WrongReturn an embeddings probe raises carries a message (also as JSON, its str) that
    renders in en, es and pt with every field filled."""
    import json
    refusals = list(embeddings_refusals())
    assert len(refusals) == 19
    for exc in refusals:
        assert json.loads(str(exc)) == exc.message
        texts = _rendered("embeddings", [exc.message])
        assert texts["es"] != texts["en"] and texts["pt"] != texts["en"], texts


def test_autoencoder_refusals_render_in_every_language(tmp_path):
    """Each refusal of the autoencoder (a return value that is not a tensor or carries no
    gradient, a missing, pickled, mis-shaped, non-float, unreadable, unsubmitted or oversized
    checkpoint) is a message that renders in en, es and pt with every field filled."""
    refusals = list(autoencoder_refusals(tmp_path))
    assert len(refusals) == 11
    keys = set()
    for exc in refusals:
        texts = _rendered("autoencoder", [exc.message])
        assert texts["es"] != texts["en"] and texts["pt"] != texts["en"], texts
        keys.add(exc.message["m"])
    assert len(keys) == 10, keys
