"""Check names in the student's language, also for per-student variants whose check names
carry the student's own numbers."""

import pytest

from neurograde import i18n
from neurograde.spec import all_assignments

VARIANTS = (1, 12345, 2**40 + 7)


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_every_variant_check_name_is_translated(lang):
    """Is every check name of the canonical exercise and of a few student variants worded in
    es/pt (not left in English), keeping the variant's own numbers?"""
    untranslated = []
    for assignment in all_assignments():
        seeds = (None,) + (VARIANTS if assignment.has_variants else ())
        for seed in seeds:
            for check in assignment.checks_for(seed):
                shown = i18n.check_name(check.name, lang, assignment)
                explicit = f"check:{check.name}" in i18n.assignment_table(assignment, lang)
                if shown == check.name and not explicit:  # "JSD(p, p) = 0" reads the same
                    untranslated.append((assignment.slug, seed, check.name))
                if f"check:{check.name}" not in i18n.catalog(lang, assignment):
                    for part in i18n._SLOT.findall(check.name):  # worded from a pattern
                        assert part in shown, (check.name, shown)
    assert not untranslated, untranslated[:10]


def test_an_unknown_name_is_shown_as_it_is():
    """A name no catalog knows (e.g. a check added after a result was stored) stays as is."""
    assert i18n.check_name("a check from another version 3", "es", "glorot") == \
        "a check from another version 3"
