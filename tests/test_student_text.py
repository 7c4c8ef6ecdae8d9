"""What students read: released notebooks in every language (canonical and a student's variant),
the public otter checks, check names and mistake messages. No word about "the seed" or a
"garbled" column; stub docstrings and comments in the notebook's language with the code
untouched; Spanish in voseo; each title once; the autoencoder asks for its checkpoint."""

import ast
import re

import pytest

from neurograde.release import build_notebook, write_otter_tests
from neurograde.spec import LANGUAGES, load_assignment
from neurograde.stub_text import texts, translate, untranslated
from neurograde.variants import tag_for

SLUGS = ("perceptron", "backprop", "glorot", "gradient_descent", "vae", "gan", "embeddings",
         "autoencoder")
SECRET = b"course-secret-for-student-text-tests"
# Whole words (not part of an API name such as torch.manual_seed or a variable like toy_seed
# that the student never reads as prose).
FORBIDDEN = re.compile(r"(?<![A-Za-z_])(seeds?|seeded|semillas?|sementes?|garbled)(?![A-Za-z])",
                       re.IGNORECASE)
# Spanish tú forms the notebooks must not use (they address the student with vos): verbs
# anywhere, imperatives at the start of a sentence of the text (in a code comment "Escribe un
# zip" may describe what the cell does).
TU = re.compile(r"\b(puedes|tienes|debes|deberías|asegúrate|fíjate|quieres)\b")
TU_IMPERATIVE = re.compile(r"(^|\. |\*\*)(Implementa|Comprueba|Ejecuta|Reinicia|Guarda|"
                           r"Aplica|Usa|Prueba|Calcula|Corrige|Escribe) ", re.MULTILINE)
# An English docstring line is prose when it has one of these words (a line of code or
# shapes such as "forward(x) = decode(encode(x))" reads the same in every language).
ENGLISH = re.compile(r"\b(the|of|is|are|and|with|each|every|for|must|if|from|returns?)\b")


@pytest.fixture(scope="module", params=SLUGS)
def assignment(request):
    return load_assignment(request.param)


def _notebooks(assignment, lang):
    """The canonical notebook and, where variants exist, a student's."""
    nbs = [build_notebook(assignment, lang)]
    if assignment.has_variants:
        nbs.append(build_notebook(assignment, lang, tag_for(SECRET, assignment, "S001")))
    return nbs


def _role(cell):
    return cell.get("metadata", {}).get("neurograde", {}).get("role")


def _code(source: str) -> str:
    """A cell's code without comments and docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


SOURCE = '''x = "a # b"  # set the x
# Two lines of
# comment.
def f(a):
    """One line."""
    return a  # the end result


class C:
    """Summary.

    Body line.
    """
    y = 1  # x
'''
SPANISH = {"set the x": "fijá la x", "Two lines of\ncomment.": "Un comentario\nen dos\nlíneas.",
           "One line.": "Una línea.", "Summary.\n\nBody line.": "Resumen.\n\nLínea."}


def test_stub_texts_are_found_and_replaced_without_touching_code():
    """Docstrings (one-line and multi-line), comment blocks and end-of-line comments are
    the texts; a '#' inside a string and one-word comments are not; a translation may have
    more lines; a text without translation stays English; the code is unchanged."""
    found = [(t.kind, t.en) for t in texts(SOURCE)]
    assert found == [("end-of-line comment", "set the x"), ("comment", "Two lines of\ncomment."),
                     ("docstring", "One line."), ("end-of-line comment", "the end result"),
                     ("docstring", "Summary.\n\nBody line.")]
    out = translate(SOURCE, SPANISH.get)
    assert out == ('''x = "a # b"  # fijá la x
# Un comentario
# en dos
# líneas.
def f(a):
    """Una línea."""
    return a  # the end result


class C:
    """Resumen.

    Línea.
    """
    y = 1  # x
''')
    assert _code(out) == _code(SOURCE)
    assert translate(SOURCE, lambda text: None) == SOURCE


def _found(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if FORBIDDEN.search(line)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_seed_or_garbled_in_the_notebooks(assignment, lang):
    """No cell of a released notebook (text, setup, stubs, comments, docstrings), canonical or
    a student's variant, says "seed"/"semilla"/"semente"/"garbled" as a word."""
    for nb in _notebooks(assignment, lang):
        found = [f"cell {i} ({_role(c)}): {line}" for i, c in enumerate(nb.cells)
                 for line in _found(c.source)]
        assert not found, found


def test_no_seed_in_check_names_otter_checks_or_mistakes(assignment, tmp_path):
    """Check names (public and hidden, canonical and a variant's), the public otter test
    files' docstrings and case names, and every mistake message in every language say
    nothing about a seed."""
    checks = list(assignment.checks)
    if assignment.has_variants:
        checks += assignment.checks_for(tag_for(SECRET, assignment, "S001").seed)
    found = [c.name for c in checks if FORBIDDEN.search(c.name)]
    write_otter_tests(assignment, tmp_path, include_hidden=False)
    for path in sorted(tmp_path.glob("*.py")):
        tree = ast.parse(path.read_text())
        shown = [ast.get_docstring(tree) or ""]
        shown += [kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
                  for kw in node.keywords
                  if kw.arg == "name" and isinstance(kw.value, ast.Constant)]
        found += [f"{path.name}: {text}" for text in shown if FORBIDDEN.search(str(text))]
    found += [f"{m.id}/{lang}: {text}" for m in assignment.mistakes
              for lang, text in m.message.items() if FORBIDDEN.search(text)]
    assert not found, found


@pytest.mark.parametrize("lang", ("es", "pt"))
def test_every_stub_docstring_and_comment_is_translated(assignment, lang):
    """Each docstring and comment of stubs.py has a translation in text/stubs.toml, so a
    changed English stub cannot leave a stale or missing translation unnoticed."""
    assert untranslated(assignment, lang) == []


@pytest.mark.parametrize("lang", ("es", "pt"))
def test_translated_notebooks_hold_no_english_docstring_and_the_same_code(assignment, lang):
    """The es/pt notebook contains none of the English docstrings' prose lines, and its setup
    and stub cells are the English notebook's code (only comments and docstrings differ)."""
    english = [line.strip() for section in assignment.stub_sections().values()
               for text in texts(section) if text.kind == "docstring"
               for line in text.en.splitlines()
               if ENGLISH.search(line) and len(re.findall(r"[A-Za-z]{2,}", line)) >= 3]
    assert english
    for nb_en, nb in zip(_notebooks(assignment, "en"), _notebooks(assignment, lang)):
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        left = [line for line in english if line in code]
        assert not left, left
        pairs = [(a, b) for a, b in zip(nb_en.cells, nb.cells) if _role(a) in ("setup", "stub")]
        assert pairs and all(_role(a) == _role(b) for a, b in pairs)
        for a, b in pairs:
            assert _code(a.source) == _code(b.source), (_role(a), b.source[:200])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_title_appears_once(assignment, lang):
    """The assignment's title heads the notebook once (the header), not again in the text."""
    title = assignment.title[lang]
    markdown = "\n".join(c.source for c in build_notebook(assignment, lang).cells
                         if c.cell_type == "markdown")
    assert markdown.count(title) == 1, title


def test_spanish_texts_use_voseo():
    """Every Spanish text (notebook text, stub translations, mistake messages) addresses the
    student with vos, as the course's other notebooks and templates do."""
    found = []
    for slug in SLUGS:
        assignment = load_assignment(slug)
        for nb in _notebooks(assignment, "es"):
            for c in nb.cells:
                found += [f"{slug}: {m.group(0)!r}" for m in TU.finditer(c.source)]
                if c.cell_type == "markdown":
                    found += [f"{slug}: {m.group(0)!r}" for m in TU_IMPERATIVE.finditer(c.source)]
        for mistake in assignment.mistakes:
            text = mistake.message.get("es", "")
            found += [f"{slug} {mistake.id}: {m.group(0)!r}"
                      for pattern in (TU, TU_IMPERATIVE) for m in pattern.finditer(text)]
    assert not found, sorted(set(found))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_autoencoder_notebook_asks_for_the_checkpoint_at_the_end(lang):
    """The closing cell of the autoencoder notebook asks for the folder with the checkpoint,
    and no closing text asks for the .ipynb alone."""
    autoencoder = load_assignment("autoencoder")
    cells = [c for c in build_notebook(autoencoder, lang).cells if c.cell_type == "markdown"]
    closing = cells[-1].source
    assert "autoencoder.pt" in closing
    footer = closing.split("---")[-1]
    assert ".ipynb" not in footer, footer
