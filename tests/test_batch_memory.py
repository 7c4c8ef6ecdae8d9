"""The grading loop holds no result longer than it takes to record it: a batch of any size
keeps the parent's memory flat while grading (the benchmark measures the whole run)."""

import gc
import weakref

from neurograde.batch import _grade_locally


class _Result:
    pass


def test_results_are_let_go_once_the_caller_has_them():
    made = []

    def grade(sub):
        result = _Result()
        made.append(weakref.ref(result))
        return result

    results = _grade_locally(grade, list(range(60)), 2)
    for taken, result in enumerate(results, start=1):
        del result
        if taken == 45:
            break
    gc.collect()
    still_held = [i for i, ref in enumerate(made[:25]) if ref() is not None]
    results.close()
    assert len(made) >= 45 and still_held == []
