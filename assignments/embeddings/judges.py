"""Judges of the embeddings checks (numpy only: embedded verbatim in otter test files).

A judge gets (inputs, outputs, expected) and returns (fraction of the points, messages). It
runs in the trusted parent on the raw values the probe returned: what the probe saw is
reported as it was, and every test of it (here: does a message name a word) is made here.
"""


def one_hot_unknown(inputs, outputs, expected):
    """one_hot raises the course's exception (KeyError) for a word outside the vocabulary,
    and its message names that word."""
    if not isinstance(outputs, dict) or "raises" not in outputs:
        return 0.0, ["one_hot: no record of what it raised"]
    raised, want = outputs["raises"], expected["raises"]
    got = getattr(raised, "name", None)
    if got != want.name:
        return 0.0, [f"one_hot of a word outside the vocabulary should raise {want.name}, "
                     f"raised {got or 'nothing'}"]
    message = outputs.get("message")
    if not (isinstance(message, str) and str(inputs["unknown"]) in message):
        return 0.0, [f"the {want.name} raised by one_hot should name the unknown word, so "
                     f"that whoever sees it knows which word to fix"]
    return 1.0, []
