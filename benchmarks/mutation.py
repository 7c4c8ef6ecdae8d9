"""Mutation score: how many wrong programs do an assignment's checks catch?

    /opt/neurograde/venv/bin/python benchmarks/mutation.py SLUG [SLUG ...] [--all]
        [--limit 60] [--jobs 2] [--min 95] [--list] [--id ID ...] [--readme FILE] [--keep DIR]

Grades mechanical mutants of reference/<slug>.py (at most --limit per assignment, a sample
seeded by the slug) as submissions, through the sandbox and the judge, with the unmutated
reference in the same batch, and prints per assignment the mutants, the killed ones, the
listed equivalent ones (assignments/<slug>/README.md, section "## Mutation testing"), the
score and every surviving mutant that is not listed. --all leaves out the autoencoder (its
checks train models and its submissions carry a checkpoint: slow); name it to grade it.
Exit 1 if an assignment scores below --min, 2 on a grader fault or a usage error.
`neurograde selftest --mutants SLUG ...` runs the same (autograder/mutation.py).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from neurograde.mutation import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
