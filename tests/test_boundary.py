"""The trust boundary in the layout: what runs beside student code imports nothing trusted.

autograder/inside/ holds the code that runs in the student's process (harness, worker); it is
copied into the sandbox with the wire format (checklib) and the self-confinement (confine).
Those files must import only each other, the standard library and numpy/torch: anything else
would either be missing in the sandbox or, worse, carry trusted code (expected values, the
reference, judges) to where the student's code can read it.
"""

import ast
import sys
from pathlib import Path

from neurograde.sandbox import box

ENGINE = Path(box.__file__).resolve().parents[1]
ALLOWED_THIRD_PARTY = {"numpy", "torch"}


def _imports(path: Path) -> list[tuple[str, int]]:
    """(top-level module name, level) of every import statement, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(((node.module or "").split(".")[0], node.level))
    return found


def _violations(path: Path) -> list[str]:
    siblings = {name[:-3] for name in box.SANDBOX_FILES} | {"probes"}
    bad = []
    for module, level in _imports(path):
        if level:
            bad.append(f"{path.name}: relative import of {module!r} (the trusted package)")
        elif not (module in siblings or module in sys.stdlib_module_names
                  or module in ALLOWED_THIRD_PARTY):
            bad.append(f"{path.name}: imports {module!r}")
    return bad


def test_sandbox_files_import_nothing_trusted():
    """Do the modules copied into the sandbox import only each other, stdlib, numpy, torch?"""
    files = box.SANDBOX_FILES
    assert {files[n].parent.name for n in ("harness.py", "worker.py")} == {"inside"}
    for source in files.values():
        assert _violations(source) == []


def test_inside_folder_holds_only_sandbox_files():
    """Is every module under autograder/inside/ one that is shipped to the sandbox (and so
    covered by the import rule above), so nothing trusted can hide there?"""
    inside = {p.name for p in (ENGINE / "inside").glob("*.py")} - {"__init__.py"}
    assert inside and inside <= set(box.SANDBOX_FILES)


def test_a_trusted_import_inside_would_be_caught(tmp_path):
    """Does the import rule really fail on an inside module importing the trusted side?"""
    bad = tmp_path / "harness.py"
    bad.write_text("import json\nfrom autograder import judge\nfrom .spec import x\n")
    assert _violations(bad) == ["harness.py: imports 'autograder'",
                                "harness.py: relative import of 'spec' (the trusted package)"]


def test_no_import_circle_between_batch_and_distributed():
    """Is the grader built in a module of its own that batch and distributed both import,
    rather than distributed importing batch (and batch importing distributed)?"""
    distributed = {m for m, _ in _imports(ENGINE / "distributed.py")}
    names = [n for n in ast.walk(ast.parse((ENGINE / "distributed.py").read_text()))
             if isinstance(n, ast.ImportFrom) and n.module == "batch"]
    assert not names and "batch" not in distributed
