"""Do an assignment's own files agree with each other? Shared by tests/test_reference_<slug>.py.

The checks read the files directly (importlib, tomllib, ast), not through autograder.spec,
so a bug in the engine cannot hide a broken assignment. A test module uses them as

    from assignment_consistency import AssignmentFiles, ConsistencyTests

    FILES = AssignmentFiles.load("gan")
    ref, mistakes = FILES.reference, FILES.mistakes

    class TestConsistency(ConsistencyTests):
        files = FILES

ConsistencyTests is not collected itself (its name does not start with "Test"); each
subclass runs its tests against its own assignment. An assignment with per-student variants
(checks.py defines variant()) is checked for its canonical numbers and three students'.

The module's test_mistake_differs_from_reference tests share assert_mistake_differs (and, for
numpy outputs, arrays_differ); each module keeps its own typical inputs and docstring.
"""

import ast
import importlib.util
import inspect
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("en", "es", "pt")
# Students whose variants are checked besides the canonical one.
STUDENTS = (1, 2, 3)


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class AssignmentFiles:
    """The source files of assignments/<slug>/ and reference/<slug>.py, loaded directly."""

    slug: str

    @classmethod
    def load(cls, slug: str) -> "AssignmentFiles":
        files = cls(slug)
        if not (files.folder / "assignment.toml").exists():
            raise FileNotFoundError(f"no assignment {slug!r}: {files.folder} has no "
                                    f"assignment.toml")
        return files

    @property
    def folder(self) -> Path:
        return ROOT / "assignments" / self.slug

    @property
    def reference_path(self) -> Path:
        return ROOT / "reference" / f"{self.slug}.py"

    @cached_property
    def reference(self) -> ModuleType:
        return load_module(self.reference_path, f"_ref_{self.slug}")

    @cached_property
    def mistakes(self) -> ModuleType:
        return load_module(self.folder / "mistakes.py", f"_mistakes_{self.slug}")

    @cached_property
    def config(self) -> dict:
        return tomllib.loads((self.folder / "assignment.toml").read_text())

    @property
    def question_of(self) -> dict:
        """API function name -> id of the question that defines it."""
        return {fn: q["id"] for q in self.config["question"] for fn in q["defines"]}

    @cached_property
    def checks(self) -> ModuleType:
        return load_module(self.folder / "checks.py", f"_checks_{self.slug}")

    @cached_property
    def canonical(self) -> dict | None:
        """CANONICAL of checks.py when the assignment has per-student variants (it defines
        variant()), else None."""
        return dict(self.checks.CANONICAL) if hasattr(self.checks, "variant") else None

    def variants(self) -> list[dict]:
        """The numbers of the variants to check: the canonical ones and, with per-student
        variants, three students' (drawn as autograder.spec draws them); without variants
        just one empty dict."""
        if self.canonical is None:
            return [{}]
        return [dict(self.canonical)] + [
            self.checks.variant(np.random.default_rng([0x7A21A, student])) for student in STUDENTS]

    def render(self, template: str, v: dict | None = None) -> str:
        """A text or setup section as the release renders it for the variant with numbers v
        (default: the canonical variant): jinja2 with `v`, the `py` filter (a value as a
        Python literal) and the points of the questions."""
        import jinja2

        from neurograde.release import py_literal
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        env.filters["py"] = py_literal
        questions = self.config["question"]
        context = {"slug": self.slug, "v": (self.canonical or {}) if v is None else v,
                   "possible": f"{sum(float(q['points']) for q in questions):g}",
                   **{f"points_{q['id']}": f"{float(q['points']):g}" for q in questions}}
        return env.from_string(template).render(**context)

    @property
    def stubs_text(self) -> str:
        return (self.folder / "stubs.py").read_text()

    def stub_sections(self, v: dict | None = None) -> dict:
        """Stub sections by name (setup, q1, ...), split at `# %% NAME` lines; with variants
        the setup section is a jinja2 template, returned rendered for the variant with
        numbers v (default: the canonical variant)."""
        parts = re.split(r"^# %% (\w+)\s*$", self.stubs_text, flags=re.M)
        sections = dict(zip(parts[1::2], parts[2::2]))
        if self.canonical is not None and "setup" in sections:
            sections["setup"] = self.render(sections["setup"], v) + "\n"
        return sections

    def raw_text(self, lang: str) -> str:
        return (self.folder / "text" / f"{lang}.md").read_text()

    def text(self, lang: str, v: dict | None = None) -> str:
        """The notebook text as the release renders it (jinja2) for the variant with numbers v
        (default: the canonical variant)."""
        return self.render(self.raw_text(lang), v)


class ConsistencyTests:
    """The file-agreement tests; subclass with `files = AssignmentFiles.load(slug)`."""

    files: AssignmentFiles

    def test_questions_stubs_and_reference_define_the_same_api(self):
        """Every API function is in exactly one question, in the reference with the same
        signature as its stub, and each stub section defines exactly its question's functions
        with a body that only raises NotImplementedError; the stubs run with the setup cell of
        every checked variant."""
        files = self.files
        questions = files.config["question"]
        defined = [fn for q in questions for fn in q["defines"]]
        assert len(defined) == len(set(defined))
        assert files.config["slug"] == files.slug and 3 <= len(questions) <= 5
        ref_tree = ast.parse(files.reference_path.read_text())
        ref_functions = [n.name for n in ref_tree.body if isinstance(n, ast.FunctionDef)]
        assert sorted(ref_functions) == sorted(defined)
        sections = files.stub_sections()
        assert list(sections) == ["setup"] + [q["id"] for q in questions]
        namespaces = []
        for v in files.variants():  # every variant's rendered setup cell runs with the stubs
            namespaces.append({})
            exec(compile("".join(files.stub_sections(v).values()), "stubs.py", "exec"),
                 namespaces[-1])
        for q in questions:
            tree = ast.parse(sections[q["id"]])
            functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
            assert [f.name for f in functions] == q["defines"]
            for f in functions:
                body = f.body[1:] if isinstance(f.body[0].value, ast.Constant) else f.body
                assert ast.unparse(body[0]) == "raise NotImplementedError" and len(body) == 1
                for namespace in namespaces:
                    assert inspect.signature(namespace[f.name]) == \
                        inspect.signature(getattr(files.reference, f.name))

    def test_reference_functions_only_use_their_own_question(self):
        """Reference imports only numpy as np / torch / math at top level, and each function
        uses no module global except those imports and functions of its own question, so a
        question's functions can be pasted into a notebook cell on their own."""
        tree = ast.parse(self.files.reference_path.read_text())
        question_of = self.files.question_of
        allowed = {"np", "torch", "math"}
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                assert isinstance(node, ast.Import)
                assert [(a.name, a.asname) for a in node.names] in (
                    [("numpy", "np")], [("torch", None)], [("math", None)])
        globals_ = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        globals_ |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets}
        for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} & globals_
            foreign = {u for u in used - allowed if question_of.get(u) != question_of[fn.name]}
            assert not foreign, f"{fn.name} uses {foreign} from another question or module"

    def test_mistakes_are_well_formed(self):
        """Each mistake has a unique id, replaces an API function with the same signature and
        has a message in en, es and pt."""
        entries = self.files.mistakes.MISTAKES
        ids = [m["id"] for m in entries]
        assert len(ids) == len(set(ids)) and len(ids) >= 3
        for m in entries:
            assert m["function"] in self.files.question_of
            assert inspect.signature(m["variant"]) == \
                inspect.signature(getattr(self.files.reference, m["function"]))
            assert set(m["message"]) == set(LANGS) and all(m["message"].values())

    @pytest.mark.parametrize("lang", LANGS)
    def test_text_has_one_section_per_question(self, lang):
        """Notebook text has the sections intro, q1..qn, outro in order, no code and balanced
        $ math delimiters; it is rendered with jinja2, so only an assignment with variants uses
        template syntax (its numbers), and the rendering for every checked variant leaves none
        of it behind."""
        raw = self.files.raw_text(lang)
        if self.files.canonical is None:
            assert not re.search(r"\{\{|\{%|\{#", raw), "the release renders text with jinja2"
        for v in self.files.variants():
            text = self.files.text(lang, v)
            names = re.findall(r"^<!-- section: (\w+) -->$", text, flags=re.M)
            assert names == ["intro"] + [q["id"] for q in self.files.config["question"]] + \
                ["outro"]
            assert "def " not in text and "grader.check(" in text
            assert not re.search(r"\{\{|\{%|\{#", text), "unrendered template syntax"
            assert text.count("$") % 2 == 0, "unbalanced math delimiters"
        assert set(self.files.config["title"]) == set(LANGS)

    def test_student_files_hold_no_reference_code(self):
        """No line of a reference function body (16+ characters, not in the stubs or its
        docstring) appears in the stubs or the notebook text (as written and as rendered)."""
        stubs = self.files.stubs_text
        student = stubs + "".join(self.files.raw_text(lang) + self.files.text(lang)
                                  for lang in LANGS)
        for name in self.files.question_of:
            fn = getattr(self.files.reference, name)
            for line in inspect.getsource(fn).splitlines()[1:]:
                text = line.strip()
                if len(text) >= 16 and text not in stubs and text not in (fn.__doc__ or "") \
                        and not text.startswith(("#", '"""')):
                    assert text not in student, f"{name}: {text!r}"


# --- every mistake is detectable ------------------------------------------------------

def arrays_differ(a, b, atol: float) -> bool:
    """The outputs differ in shape, or somewhere beyond rtol 1e-6 and the given atol (nan
    never counts as close)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=atol)


def assert_mistake_differs(reference: ModuleType, mistake: dict, typical_args, differs) -> None:
    """The mistake's variant and the reference function, each called on its own fresh
    typical_args(function) (generators included), give outputs that differs() tells apart."""
    function = mistake["function"]
    expected = getattr(reference, function)(*typical_args(function))
    assert differs(mistake["variant"](*typical_args(function)), expected), mistake["id"]
