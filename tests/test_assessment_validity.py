"""Points follow the skill (issue 12): input validation carries at most 10% of an assignment's
points, every validation check is marked as one, and each question's text says its share.
Plus the rule that names a mistake (judge.named_mistakes) and Names.standing_in, in isolation."""

from __future__ import annotations

import math

import pytest

from neurograde import checklib
from neurograde.execute import CheckRun
from neurograde.judge import Expectations, expectations, named_mistakes
from neurograde.probe import make_plan
from neurograde.release import build_notebook
from neurograde.spec import Mistake, known_slugs, load_assignment

SLUGS = known_slugs()


def _raises(value) -> bool:
    """Does a normalized reference output record an exception the function must raise?"""
    if isinstance(value, checklib.Raised):
        return value.name is not None
    if isinstance(value, dict):
        return any(_raises(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_raises(v) for v in value)
    return False


@pytest.mark.parametrize("slug", SLUGS)
def test_validation_is_at_most_a_tenth_of_the_points(slug):
    """For the canonical checks and two students' variants: the validation checks are worth
    at most 10% of the assignment, and every check whose reference output is an exception
    the function must raise is marked validation (so none hides among the mathematics)."""
    assignment = load_assignment(slug)
    for seed in (None, 1, 2):
        plan = make_plan(assignment, seed)
        share = sum(p.check.points for p in plan.all_checks if p.check.validation)
        assert share <= 0.1 * assignment.possible + 1e-9, (seed, share, assignment.possible)
        if seed is None:
            assert math.isclose(share, assignment.validation_points())
            expected = expectations(plan).expected
            unmarked = [p.check.name for p in plan.all_checks
                        if _raises(expected[p.id]) and not p.check.validation]
            assert not unmarked, f"checks that test raising are not marked validation: {unmarked}"


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("lang,words", [("en", "for rejecting invalid input"),
                                        ("es", "por rechazar entradas inválidas"),
                                        ("pt", "por rejeitar entradas inválidas")])
def test_question_text_says_the_validation_share(slug, lang, words):
    """Each question cell says its points and, when it has validation checks, how many of them
    are for rejecting invalid input; a question without any says nothing of the kind."""
    assignment = load_assignment(slug)
    nb = build_notebook(assignment, lang)
    texts = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("neurograde", {})
        if cell.cell_type == "markdown" and meta.get("question"):
            texts[meta["question"]] = cell.source
    for q in assignment.questions:
        share = assignment.validation_points(q.id)
        if share:
            assert words in texts[q.id] and f"{share:g}" in texts[q.id], (q.id, texts[q.id][-200:])
        else:
            assert words not in texts[q.id], q.id


# ---------------------------------------------------------------------------- the naming rule

class _Check:
    def __init__(self, tol=checklib.DEFAULT):
        self.tol = tol


class _Planned:
    def __init__(self, id):
        self.id, self.check = id, _Check()


class _Plan:
    def __init__(self, ids):
        self.all_checks = [_Planned(i) for i in ids]


def _mistake(id):
    return Mistake(id=id, function="f", variant=lambda: None, message={"en": id})


def _ok(value):
    return CheckRun(outputs=value)


def test_a_mistake_is_named_only_when_all_its_evidence_matches():
    """Mistake A differs from the reference on checks c1 and c2: a submission that matches A
    on both gets A named on them; one that matches A on c1 only (a coincidence) gets nothing;
    one that errored on c2 gets nothing; a failed check that is not A's evidence (c3, say a
    missing ValueError) never names A."""
    a, b = _mistake("a"), _mistake("b")
    exp = Expectations(expected={"c1": 1.0, "c2": 2.0, "c3": "ok"},
                       variants={"c1": ((a, 10.0),), "c2": ((a, 20.0), (b, 30.0)), "c3": ()})
    plan = _Plan(["c1", "c2", "c3"])
    both = {"c1": _ok(10.0), "c2": _ok(20.0), "c3": _ok("wrong")}
    assert named_mistakes(plan, exp, both) == {"c1": "a", "c2": "a"}
    coincidence = {"c1": _ok(10.0), "c2": _ok(2.5), "c3": _ok("ok")}
    assert named_mistakes(plan, exp, coincidence) == {}
    errored = {"c1": _ok(10.0), "c2": CheckRun(error={"type": "ValueError"}), "c3": _ok("ok")}
    assert named_mistakes(plan, exp, errored) == {}
    only_b = {"c1": _ok(1.0), "c2": _ok(30.0), "c3": _ok("wrong")}
    assert named_mistakes(plan, exp, only_b) == {"c2": "b"}
    assert named_mistakes(plan, exp, {"c1": _ok(1.0), "c2": _ok(2.0), "c3": _ok("x")}) == {}


def test_more_evidence_wins_when_two_mistakes_match_a_check():
    a, b = _mistake("a"), _mistake("b")
    exp = Expectations(expected={"c1": 1.0, "c2": 2.0},
                       variants={"c1": ((a, 10.0), (b, 10.0)), "c2": ((b, 20.0),)})
    runs = {"c1": _ok(10.0), "c2": _ok(20.0)}
    assert named_mistakes(_Plan(["c1", "c2"]), exp, runs) == {"c1": "b", "c2": "b"}


def test_standing_in_replaces_and_restores_names():
    """A later question's function sees the stand-in inside the block, the namespace is as
    before after it (also when the block raises), and a read-only namespace is left alone."""
    namespace = {"kl": lambda: "student's", "loss": None}
    namespace["loss"] = lambda: namespace["kl"]() + " used"
    names = checklib.Names(namespace)
    with names.standing_in(kl=lambda: "given", extra=len):
        assert names["loss"]() == "given used" and namespace["extra"] is len
    assert names["loss"]() == "student's used" and "extra" not in namespace
    with pytest.raises(RuntimeError):
        with names.standing_in(kl=lambda: "given"):
            raise RuntimeError
    assert names["loss"]() == "student's used"
    from types import MappingProxyType
    frozen = checklib.Names(MappingProxyType({"kl": len}))
    with frozen.standing_in(kl=abs):
        assert frozen["kl"] is len
    # own(): the submission's function, or one that reports it missing only when called
    assert names.own("loss") is namespace["loss"]
    missing = names.own("absent")
    with pytest.raises(checklib.MissingName):
        missing(1)
