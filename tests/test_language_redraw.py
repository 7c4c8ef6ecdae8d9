"""Presentation is not grading: another feedback language redraws the pages from the stored
results, without grading anything again and without --force."""

from assignment_grading import notebook_with_code
from neurograde.batch import BatchOptions, grade_batch
from neurograde.spec import load_assignment

WRONG_ACCURACY = '''
import numpy as np

def accuracy(y_true, y_pred):
    return float(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
'''


def test_switching_language_redraws_pages_without_regrading(tmp_path):
    """A Spanish notebook graded without --lang gets a Spanish page; grading the same folder
    again with --lang pt grades nothing (same results, same gradebook) and rewrites the page
    in Portuguese; then without --lang it is Spanish again."""
    assignment = load_assignment("perceptron")
    subs = tmp_path / "subs"
    notebook_with_code(assignment, {"q2": WRONG_ACCURACY}, subs / "ana.ipynb", lang="es")
    out = tmp_path / "out"

    def run(lang):
        summary = grade_batch(assignment, [subs / "ana.ipynb"], out,
                              BatchOptions(jobs=1, quiet=True, lang=lang, self_check=False))
        return summary, (out / "feedback" / "ana.ipynb.html").read_text()

    first, page = run(None)
    assert first.graded == 1 and '<html lang="es">' in page and "Devolución para" in page
    again, page_pt = run("pt")
    assert again.graded == 0 and again.skipped == 1
    assert again.results[0].to_dict() == first.results[0].to_dict()
    assert '<html lang="pt">' in page_pt and "Retorno para" in page_pt
    third, page_es = run(None)
    assert third.graded == 0 and '<html lang="es">' in page_es
