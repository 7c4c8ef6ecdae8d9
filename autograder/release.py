"""Release: one assignment source -> student notebook + public otter checks + autograder zip.

The student folder gets the notebook, tests/<qid>.py with the public checks only, and the
assignment's student files. The autograder zip (otter generate) gets every check, hidden ones
included, as fixed inputs with expected values computed here from the reference — never the
reference code itself.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import jinja2
import nbformat

from . import checklib, i18n, standalone
from .checklib import say
from .judge import expectations
from .messages import render
from .probe import default_seed, make_plan
from .spec import ENGINE_DIR, LANGUAGES, ROOT, TEMPLATES_DIR, Assignment, SpecError
from .stub_text import stub_sections

NB_META_KEY = "neurograde"

@dataclass(frozen=True)
class Release:
    slug: str
    lang: str
    student_dir: Path
    notebook: Path
    autograder_zip: Path

def py_literal(value) -> str:
    """A variant value as Python source for the notebook (arrays become nested lists)."""
    import numpy as np
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, tuple):
        return "(" + ", ".join(py_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    elif isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                             autoescape=False)
    env.filters["py"] = py_literal
    return env

def _strings(lang: str) -> dict:
    return tomllib.loads((TEMPLATES_DIR / "i18n.toml").read_text())[lang]

def text_context(assignment: Assignment) -> dict:
    """Values an assignment's text may use ({{ name }}); its checks module may add more."""
    return {"slug": assignment.slug, "possible": f"{assignment.possible:g}",
            **{f"points_{q.id}": f"{q.points:g}" for q in assignment.questions}}

def build_notebook(assignment: Assignment, lang: str, tag=None) -> nbformat.NotebookNode:
    """The student notebook; tag (variants.VariantTag) selects and records a student's
    variant, otherwise the canonical (seed) numbers are used."""
    if lang not in LANGUAGES:
        raise SpecError(f"language {lang!r} is not supported; choose one of "
                        f"{', '.join(LANGUAGES)}")
    env, t = _env(), _strings(lang)
    text = assignment.text_sections(lang)
    stubs = stub_sections(assignment, lang)  # docstrings and comments in lang
    missing = [s for s in ["intro", "outro", *assignment.question_ids] if s not in text]
    missing += [f"stub {s}" for s in ["setup", *assignment.question_ids] if s not in stubs]
    if missing:
        raise SpecError(f"{assignment.slug}/{lang}: missing sections {missing}")
    ctx = {**text_context(assignment),
           "v": assignment.variant(tag.seed if tag is not None else None)}
    if assignment.has_variants:  # the setup cell prints the variant's numbers
        stubs = {**stubs, "setup": env.from_string(stubs["setup"]).render(**ctx)}

    def render_text(name: str) -> str:
        return env.from_string(text[name]).render(**ctx)

    def cell_meta(role: str, qid: str | None = None) -> dict:
        return {NB_META_KEY: {"role": role, **({"question": qid} if qid else {})}}

    base = {"t": t, "slug": assignment.slug, "version": assignment.version,
            "possible": f"{assignment.possible:g}"}
    cells = [
        nbformat.v4.new_markdown_cell(env.get_template("cells/header.md.j2").render(
            **base, title=assignment.title.get(lang, assignment.slug),
            intro=render_text("intro")), metadata=cell_meta("text")),
        # Collapsed (Jupyter) / shown as its title (Colab): students need not read it.
        nbformat.v4.new_code_cell(env.get_template("cells/init.py.j2").render(
            **base, **standalone.init_context(assignment)),
            metadata={**cell_meta("init"), "jupyter": {"source_hidden": True},
                      "cellView": "form"}),
        nbformat.v4.new_code_cell(stubs["setup"], metadata=cell_meta("setup")),
    ]
    for q in assignment.questions:
        cells += [
            nbformat.v4.new_markdown_cell(env.get_template("cells/question.md.j2").render(
                **base, text=render_text(q.id), points=f"{q.points:g}",
                validation=f"{assignment.validation_points(q.id):g}"),
                metadata=cell_meta("text", q.id)),
            nbformat.v4.new_code_cell(stubs[q.id], metadata=cell_meta("stub", q.id)),
            nbformat.v4.new_code_cell(env.get_template("cells/check.py.j2").render(qid=q.id),
                                      metadata=cell_meta("check", q.id)),
        ]
    cells.append(nbformat.v4.new_markdown_cell(env.get_template("cells/footer.md.j2").render(
        **base, outro=render_text("outro")), metadata=cell_meta("text")))
    cells.append(nbformat.v4.new_code_cell(env.get_template("cells/export.py.j2").render(
        **base, files=standalone.submit_files(assignment)), metadata=cell_meta("export")))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        NB_META_KEY: {"slug": assignment.slug, "version": assignment.version, "lang": lang,
                      **(tag.metadata() if tag is not None else {})},
    })
    return nb

def _tol_data(tol) -> dict:
    if isinstance(tol, checklib.Tol):
        return {"atol": tol.atol, "rtol": tol.rtol}
    return {key: {"atol": t.atol, "rtol": t.rtol} for key, t in tol.items()}

def write_otter_tests(assignment: Assignment, folder: Path, *, include_hidden: bool,
                      variant: int | None = None, lang: str = "en") -> None:
    """tests/<qid>.py in otter's exception format; public checks only unless include_hidden."""
    # default_seed: the grader's own rule, so the zip grades on the hidden inputs of
    # `neurograde grade` (and of its per-student variant when there is one).
    plan = make_plan(assignment, default_seed(assignment), include_hidden=include_hidden,
                     variant=variant)
    expected = expectations(plan).expected
    sources = {"checklib": (Path(__file__).parent / "checklib.py").read_text(),
               "messages": (Path(__file__).parent / "messages.py").read_text(),
               "probes": assignment.probes_path.read_text()}
    if assignment.judges_path:
        sources["judges"] = assignment.judges_path.read_text()
    template = _env().get_template("otter_test.py.j2")
    folder.mkdir(parents=True, exist_ok=True)
    words = i18n.catalog(lang, assignment)
    # Check names are worded here, into each case's name; the catalog the file embeds keeps
    # none (a public file must not list the names of the hidden checks), nor the named
    # mistakes (the otter files do not name them; their texts say what the fix is).
    catalog = {k: v for k, v in words.items() if not k.startswith(("check:", "mistake:"))}
    for q in assignment.questions:
        planned = [p for p in plan.all_checks if p.check.question == q.id]
        cases = [json.dumps({"probe": p.check.probe, "inputs": checklib.encode(p.inputs),
                             "expected": checklib.encode(expected[p.id]),
                             "tol": _tol_data(p.check.tol), "judge": p.check.judge,
                             "points": p.check.points})
                 for p in planned]
        meta = [{"name": repr(f"{q.id} " + render(say(
                    "label.hidden" if p.check.hidden else "label.public",
                    name=i18n.check_name(p.check.name, lang, assignment)), words)),
                 "points": repr(p.check.points), "hidden": repr(p.check.hidden)}
                for p in planned]
        text = template.render(slug=assignment.slug, qid=q.id,
                               audience="all checks" if include_hidden else "public checks",
                               points=repr(sum(p.check.points for p in planned)),
                               sources=repr(sources), cases=repr(cases), case_meta=meta,
                               lang=lang, catalog=repr(catalog))
        compile(text, f"{q.id}.py", "exec")  # a broken template must fail here, not in class
        (folder / f"{q.id}.py").write_text(text)

def _requirements(assignment: Assignment) -> str:
    lines = ["numpy", "scipy"]
    if assignment.uses_torch:
        lines.append("torch")
    lines += [r for r in assignment.requirements if r not in lines]
    return "\n".join(lines) + "\n"

def _student_file(assignment: Assignment, rel: str) -> Path:
    """A student file: files/<rel> in the assignment folder, else <rel> from the repository
    root (e.g. autograder/data/cifar10.py, so students load data with the grader's loader)."""
    engine = rel.removeprefix("autograder/")  # the engine is a package wherever it is installed
    for src in (assignment.folder / "files" / rel, ROOT / rel, ENGINE_DIR / engine):
        if src.is_file():
            return src
    raise SpecError(f"{assignment.slug}: student file {rel} not found in "
                    f"{assignment.folder / 'files'} or {ROOT}")

def _fresh(*folders: Path) -> None:
    for folder in folders:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)


def _release_one(assignment: Assignment, student: Path, zip_path: Path, lang: str,
                 tag=None) -> Release:
    """Student folder (notebook, public checks, files) + autograder zip for one variant."""
    variant = tag.seed if tag is not None else None
    student, zip_path = student.resolve(), zip_path.resolve()  # otter runs from `student`
    nb = build_notebook(assignment, lang, tag)
    notebook_path = student / f"{assignment.slug}.ipynb"
    write_otter_tests(assignment, student / "tests", include_hidden=False, variant=variant,
                      lang=lang)
    files = []
    for rel in assignment.student_files:
        src = _student_file(assignment, rel)
        shutil.copy(src, student / Path(rel).name)
        files.append(Path(rel).name)
    # The public checks and the files travel in the notebook too: it runs alone (Colab).
    nbformat.write(standalone.embed(nb, student / "tests", [student / f for f in files]),
                   str(notebook_path))
    with tempfile.TemporaryDirectory(prefix="neurograde-release-") as tmp:
        tests = Path(tmp) / "tests"
        write_otter_tests(assignment, tests, include_hidden=True, variant=variant, lang=lang)
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(_requirements(assignment))
        import otter.generate
        log = StringIO()
        # otter generate stores `files` relative to the working directory (and refuses files
        # outside it), so it runs from the student folder; release is single-threaded.
        with redirect_stdout(log), redirect_stderr(log), contextlib.chdir(student):
            otter.generate.main(tests_dir=str(tests), output_path=str(zip_path),
                                requirements=str(requirements), no_environment=True,
                                no_config=True, files=files, python_version="3.11")
    if not zip_path.exists():
        raise RuntimeError(f"otter generate did not write {zip_path}: {log.getvalue()[-500:]}")
    return Release(assignment.slug, lang, student, notebook_path, zip_path)


def release_folder(out_dir: Path, slug: str, lang: str) -> Path:
    """DIR/<slug>/<lang>/: each language has its own release folder, so releasing another
    language into the same DIR never overwrites this one."""
    if lang not in LANGUAGES:
        raise SpecError(f"language {lang!r} is not supported; choose one of "
                        f"{', '.join(LANGUAGES)}")
    return Path(out_dir) / slug / lang


def release(assignment: Assignment, out_dir: Path, lang: str = "en") -> Release:
    """DIR/<slug>/<lang>/student/ (the notebook for every student), the otter zip
    DIR/<slug>/<lang>/autograder/<slug>-<lang>-autograder.zip and README.md (the handout)."""
    from .handout import write_release_notes
    base = release_folder(out_dir, assignment.slug, lang)
    zip_path = base / "autograder" / f"{assignment.slug}-{lang}-autograder.zip"
    _fresh(base / "student")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    zip_path.unlink(missing_ok=True)
    result = _release_one(assignment, base / "student", zip_path, lang)
    write_release_notes(assignment, base, lang)
    return result


def release_roster(assignment: Assignment, out_dir: Path, lang: str, students,
                   secret: bytes) -> list[Release]:
    """One notebook, public checks and autograder zip per roster student, each with the
    student's own variant: DIR/<slug>/<lang>/students/<id>/ and
    DIR/<slug>/<lang>/autograder/students/<slug>-<lang>-<id>-autograder.zip, + README.md."""
    from .handout import write_release_notes
    from .variants import tag_for
    if not assignment.has_variants:
        raise SpecError(f"{assignment.slug} has no per-student variants (its checks.py defines "
                        f"no variant()); release it without --roster")
    base = release_folder(out_dir, assignment.slug, lang)
    _fresh(base / "students", base / "autograder" / "students")
    releases = []
    for student in students:
        name = _safe_name(student.id)
        folder = base / "students" / name
        folder.mkdir(parents=True)
        zip_path = (base / "autograder" / "students" /
                    f"{assignment.slug}-{lang}-{name}-autograder.zip")
        releases.append(_release_one(assignment, folder, zip_path, lang,
                                     tag_for(secret, assignment, student.id)))
    write_release_notes(assignment, base, lang)
    return releases


def _safe_name(text: str) -> str:
    import re
    name = re.sub(r"[^A-Za-z0-9._@-]+", "_", text).strip("._")
    if not name:
        raise SpecError(f"student id {text!r} cannot be used as a folder name")
    return name

def solution_source(assignment: Assignment, qid: str, module, renames: dict | None = None) -> str:
    """The code of question qid's functions taken from module (reference or a variant map)."""
    import inspect
    import re
    parts = []
    for name in assignment.question(qid).defines:
        obj = (renames or {}).get(name) or getattr(module, name)
        source = inspect.getsource(obj)
        if obj.__name__ != name:
            source = re.sub(rf"^(def|class) {re.escape(obj.__name__)}\b", rf"\1 {name}", source,
                            count=1, flags=re.M)
        parts.append(source.rstrip())
    return "\n\n\n".join(parts) + "\n"

def fill_notebook(nb: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of a student notebook whose stub cells are replaced by the given code.

    Blank code keeps the stub: a question that defines no names (e.g. the autoencoder's
    "train or load your model" cell) has nothing to replace."""
    filled = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in filled.cells:
        meta = cell.get("metadata", {}).get(NB_META_KEY, {})
        if meta.get("role") == "stub" and sources.get(meta.get("question"), "").strip():
            cell.source = sources[meta["question"]]
    return filled

def reference_notebook(assignment: Assignment, lang: str) -> nbformat.NotebookNode:
    nb = build_notebook(assignment, lang)
    return fill_notebook(nb, {q: solution_source(assignment, q, assignment.reference)
                              for q in assignment.question_ids})
