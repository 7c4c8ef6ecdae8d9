"""Feedback messages as data, worded per language when they are shown.

A message is plain JSON: {"m": key, **params} (checklib.say builds one). Its wording lives in
catalogs, one table per language: templates/messages.toml for the engine's messages and
assignments/<slug>/messages.toml for an assignment's own (judge messages, check names).
Results store messages, not sentences, so a page can be rendered again in another language
without grading again, and the otter tests of a release embed the catalog of its language.

render() is standalone (stdlib only): it is embedded verbatim in the otter test files.
"""

import string

MAX_DEPTH = 8


class _Params(dict):
    def __missing__(self, key):  # a message stored by an older version lacks a parameter
        return "?"


def _value(value, catalog, depth):
    if isinstance(value, dict) and isinstance(value.get("m"), str):
        return render(value, catalog, depth + 1)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "; ".join(render(v, catalog, depth + 1) for v in value)
    if isinstance(value, list):  # a shape or an index after a JSON round trip
        return tuple(value)
    return value


def render(message, catalog, depth=0):
    """The message as text in the catalog's language (a flat dict key -> template, the
    English table merged under it). A plain string is shown as it is; an unknown key, a
    missing parameter or a malformed template never raises (results are shown years later)."""
    if isinstance(message, str):
        return message
    if isinstance(message, (list, tuple)):
        return "; ".join(render(m, catalog, depth + 1) for m in message)
    if not isinstance(message, dict) or depth > MAX_DEPTH:
        return str(message)
    key = message.get("m")
    template = catalog.get(key) if isinstance(key, str) else None
    if template is None:
        return str(key)
    params = _Params({k: _value(v, catalog, depth) for k, v in message.items() if k != "m"})
    try:
        return string.Formatter().vformat(template, (), params)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        return template
