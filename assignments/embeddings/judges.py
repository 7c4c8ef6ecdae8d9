"""Judges of the embeddings checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages). It
runs in the trusted parent on the raw values the probe returned: what the probe saw is
reported as it was, and every test of it (here: does a message name a word) is made here.
Messages are data (checklib.say); their wording in each language is in messages.toml.
"""

from checklib import say


def one_hot_unknown(inputs, outputs, expected):
    """one_hot raises the course's exception (KeyError) for a word outside the vocabulary,
    and its message names that word."""
    if not isinstance(outputs, dict) or "raises" not in outputs:
        return 0.0, [say("embeddings.no-record")]
    raised, want = outputs["raises"], expected["raises"]
    got = getattr(raised, "name", None)
    if got != want.name:
        return 0.0, [say("embeddings.should-raise", want=want.name,
                         got=got or say("embeddings.nothing"))]
    message = outputs.get("message")
    if not (isinstance(message, str) and str(inputs["unknown"]) in message):
        return 0.0, [say("embeddings.name-the-word", want=want.name)]
    return 1.0, []
