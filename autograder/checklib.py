"""Plain-data wire format, name lookup and tolerance comparison.

This module is deliberately standalone (stdlib + numpy only): the same source runs in three
places that must agree exactly:

* the sandboxed harness, to turn a student's return values into plain data;
* the trusted parent, to decode that data and compare it with the reference;
* the otter test files of a release, where it is embedded verbatim.

Nothing here is secret: it holds no expected value and no reference code.
"""

import base64
import contextlib
import json
import math

import numpy as np

WIRE_VERSION = 1
_NUMERIC_KINDS = "biuf"  # bool, signed, unsigned, float; no complex, object or strings
MAX_ARRAY_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 32


class MissingName(Exception):
    """A name the check needs is not defined by the submission."""

    def __init__(self, name):
        super().__init__(f"{name} is not defined")
        self.name = name


class WrongReturn(Exception):
    """Raised by a probe when a function returns the wrong kind of thing (e.g. not a tuple).

    Its argument is a message (say(...)); str() gives it as JSON, which is how it crosses the
    result channel, so the parent can word it in the student's language."""

    def __init__(self, message):
        if isinstance(message, str):
            message = say("text", text=message)
        super().__init__(json.dumps(message))
        self.message = message


def say(key, /, **params):
    """A feedback message as plain data: rendered later, in the student's language, from the
    catalogs (templates/messages.toml, assignments/<slug>/messages.toml)."""
    return {"m": key, **params}


# A judged check earns points * fraction rounded to SCORE_DECIMALS decimals of a point. The
# grader and the otter test files both call awarded(), so both give the same number, and the
# grid is coarser than otter's rounding of question scores to 5 decimals (Gradescope's
# results.json), so that rounding leaves it unchanged.
SCORE_DECIMALS = 4


def awarded(points, fraction):
    """The points a judged check earns for its judge's fraction: clamped to [0, 1] (NaN
    earns nothing), times points, rounded to SCORE_DECIMALS decimals."""
    fraction = float(fraction)
    fraction = min(1.0, max(0.0, fraction)) if fraction == fraction else 0.0
    return round(float(points) * fraction, SCORE_DECIMALS)


def unpack(value, n, what):
    """Split a returned tuple/list of n items, or raise WrongReturn naming what was expected."""
    if not isinstance(value, (tuple, list)) or len(value) != n:
        if isinstance(value, (tuple, list)):
            got = say("kind.sequence", type=type(value).__name__, length=len(value))
        else:
            got = say("kind.named", type=type(value).__name__)
        raise WrongReturn(say("should-return", what=what, got=got))
    return tuple(value)


class Names:
    """Read-only view of a namespace whose lookups name what is missing."""

    def __init__(self, mapping):
        self._mapping = mapping

    def __getitem__(self, name):
        try:
            return self._mapping[name]
        except KeyError:
            raise MissingName(name) from None

    def __contains__(self, name):
        return name in self._mapping

    def get(self, name, default=None):
        return self._mapping.get(name, default)

    def own(self, name):
        """The submission's own function `name`, for a stand-in to fall back on; when the
        submission has none, a function that reports it missing if it is ever called."""
        if name in self._mapping:
            return self._mapping[name]

        def missing(*args, **kwargs):
            raise MissingName(name)
        return missing

    @contextlib.contextmanager
    def standing_in(self, **functions):
        """Inside the block, the namespace's functions of these names are replaced (e.g. an
        earlier question's function by one that returns the right value for the check's
        inputs), so a later question is graded on its own: a student's function that calls
        them sees the stand-ins. Restored afterwards, also when the block raises. A read-only
        namespace (the reference's, whose own functions are right) is left as it is."""
        if not hasattr(self._mapping, "__setitem__"):
            record = getattr(self._mapping, "stood_in", None)
            if isinstance(record, set):  # the grader's Recorder: which names stood in
                record.update(functions)
            yield self
            return
        saved = {name: self._mapping[name] for name in functions if name in self._mapping}
        try:
            for name, fn in functions.items():
                self._mapping[name] = fn
            yield self
        finally:
            for name in functions:
                if name in saved:
                    self._mapping[name] = saved[name]
                else:
                    self._mapping.pop(name, None)


def raised(fn, *args, **kwargs):
    """Call fn and describe what it raised: the exception type name, or None."""
    try:
        fn(*args, **kwargs)
    except MissingName:
        raise
    except Exception as exc:  # the check is about which exception, so catch them all
        return Raised(type(exc).__name__)
    return Raised(None)


# ---------------------------------------------------------------------------- wire format

def encode(value, _depth=0):
    """Turn a return value into JSON-ready plain data; arrays become tagged base64 blobs."""
    if _depth > MAX_DEPTH:
        return {"__object__": "too deeply nested"}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # np.str_ is a str: the otter files compare without the JSON step
    if isinstance(value, int):
        value = int(value)
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
        value = float(value)  # np.float64 is a float whose repr is "np.float64(...)"
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        try:
            value = value.detach().cpu().numpy()
        except Exception as exc:
            return {"__object__": f"torch value that cannot become an array ({exc})"}
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, _depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                return {"__object__": "dict with non-string keys"}
            items.append([key, encode(item, _depth + 1)])
        return {"__dict__": items}
    if isinstance(value, Raised):
        return {"__raised__": value.name}
    return {"__object__": type(value).__name__}


def _encode_array(arr):
    if arr.dtype.kind not in _NUMERIC_KINDS:
        if arr.dtype.kind == "O":
            try:
                converted = np.array(arr.tolist())
            except Exception:
                converted = arr
            if converted.dtype.kind in _NUMERIC_KINDS:
                return _encode_array(converted)
        return {"__object__": f"array of dtype {arr.dtype}"}
    arr = np.asarray(arr, order="C")  # ascontiguousarray would turn 0-d into 1-d
    if arr.nbytes > MAX_ARRAY_BYTES:
        return {"__object__": f"array too large ({arr.nbytes} bytes)"}
    return {
        "__nd__": arr.dtype.str,
        "shape": list(arr.shape),
        "b64": base64.b64encode(arr.tobytes()).decode("ascii"),
    }


def decode(data, _depth=0):
    """Inverse of encode; validates everything, since the data comes from untrusted code."""
    if _depth > MAX_DEPTH:
        raise ValueError("data nested too deeply")
    if data is None or isinstance(data, (bool, str, int, float)):
        return data
    if isinstance(data, list):
        return [decode(v, _depth + 1) for v in data]
    if not isinstance(data, dict) or len(data) == 0:
        raise ValueError(f"unexpected wire value of type {type(data).__name__}")
    if "__nd__" in data:
        return _decode_array(data)
    if "__tuple__" in data:
        return tuple(decode(v, _depth + 1) for v in _as_list(data["__tuple__"]))
    if "__dict__" in data:
        out = {}
        for pair in _as_list(data["__dict__"]):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise ValueError("malformed dict entry")
            out[pair[0]] = decode(pair[1], _depth + 1)
        return out
    if "__float__" in data:
        text = data["__float__"]
        if text not in ("nan", "inf", "-inf"):
            raise ValueError(f"malformed float {text!r}")
        return float(text)
    if "__raised__" in data:
        name = data["__raised__"]
        if name is not None and not isinstance(name, str):
            raise ValueError("malformed exception record")
        return Raised(name)
    if "__object__" in data:
        return Opaque(str(data["__object__"])[:200])
    raise ValueError(f"unknown wire tag {sorted(data)[:3]}")


def _as_list(value):
    if not isinstance(value, list):
        raise ValueError("expected a list")
    return value


def _decode_array(data):
    dtype = np.dtype(str(data["__nd__"]))
    if dtype.kind not in _NUMERIC_KINDS:
        raise ValueError(f"dtype {dtype} is not allowed")
    shape = tuple(int(s) for s in _as_list(data["shape"]))
    if any(s < 0 for s in shape):
        raise ValueError("negative dimension")
    raw = base64.b64decode(data["b64"], validate=True)
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ValueError("array byte length does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


class Raised:
    """What a probe recorded about an exception: its type name (None when nothing raised)."""

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Raised) and other.name == self.name

    def __repr__(self):
        return f"raised {self.name}" if self.name else "raised nothing"


class Opaque:
    """A value that could not be turned into plain data (a custom object, a string array...)."""

    def __init__(self, description):
        self.description = description

    def __repr__(self):
        return f"<{self.description}>"


def normalize(value):
    """The value as the judge sees it after a round trip through the wire format."""
    return decode(encode(value))


# ---------------------------------------------------------------------------- comparison

class Tol:
    """Numeric tolerance: an entry passes when |actual - expected| <= atol + rtol * |expected|."""

    def __init__(self, atol=0.0, rtol=0.0):
        if atol < 0 or rtol < 0:
            raise ValueError("tolerances must be >= 0")
        self.atol = float(atol)
        self.rtol = float(rtol)

    def __repr__(self):
        return f"Tol(atol={self.atol:g}, rtol={self.rtol:g})"

    def describe(self):
        return f"|actual - expected| <= {self.atol:g} + {self.rtol:g}*|expected|"


def _rule(tol):
    return say("tol-rule", atol=tol.atol, rtol=tol.rtol)


EXACT = Tol(0.0, 0.0)
DEFAULT = Tol(atol=1e-9, rtol=1e-6)


class Problem:
    """One way an output differs from the expected one, worded for each kind of check.

    kind: shape, length, type, dtype, missing, raised, nan, inf, sign, transposed, offset,
    scale or value. text is the full message (measured error, tolerance, the value returned)
    for public checks, whose inputs and expected values the student has anyway. hidden says
    the same kind of thing for a hidden check: no number from the expected value, the error
    or the tolerance, and nothing the submission chose except bounded facts about its own
    output (a shape made of the expected dimensions, the index of a wrong entry), since a
    submission could otherwise write the hidden inputs into its own feedback. Both are
    messages (say(...)), worded in the student's language when rendered.
    """

    __slots__ = ("kind", "where", "text", "hidden")

    def __init__(self, kind, where, text, hidden=None):
        self.kind, self.where = kind, where
        # "result", "result[0]": the word is translated, the index and key names are not
        head, rest = (say("result-word"), where[6:]) if where.startswith("result") else (where, "")
        self.text = say("where", where=head, rest=rest, text=text)
        self.hidden = say("where", where=head, rest=rest, text=text if hidden is None else hidden)

    def render(self, hidden):
        return self.hidden if hidden else self.text

    def __repr__(self):
        return f"Problem({self.kind!r}, {self.text!r})"


# Exception names a hidden check may show: a class the submission defines can be named after
# anything, including the hidden inputs, so only names the submission cannot choose pass.
SAFE_EXCEPTIONS = frozenset(
    [name for name, obj in vars(__import__("builtins")).items()
     if isinstance(obj, type) and issubclass(obj, BaseException)]
    + ["LinAlgError", "AxisError", "MissingName", "WrongReturn", "Timeout"])


def exception_name(name, hidden):
    """The exception type as a check may show it (hidden: only built-in names): a type name,
    or a message for "nothing" and "a class defined in the submission"."""
    if not name:
        return say("exc.nothing")
    if hidden and name not in SAFE_EXCEPTIONS:
        return say("exc.own-class")
    return name


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value):
    if isinstance(value, np.ndarray):
        return say("kind.array", shape=value.shape)
    if isinstance(value, Opaque):
        return say("kind.unsupported", value=repr(value))
    return say("kind.type", type=type(value).__name__)


def _plain(value_type):
    """'an integer', 'a dict'...: the kind of a plain value, as a message."""
    name = value_type.__name__
    return say("plain." + name) if name in ("int", "float", "bool", "str", "NoneType", "list",
                                            "tuple", "dict") else say("plain.other")


def _hidden_kind(value):
    if isinstance(value, np.ndarray):
        return say("plain.array")
    if isinstance(value, Raised):
        return say("plain.exception")
    return _plain(type(value))


def _own_shape(shape, expected_shape):
    """Whether a hidden check may quote the submission's shape: only when it is made of the
    expected dimensions (and 0 or 1), so it cannot carry numbers of the submission's choosing."""
    allowed = set(expected_shape) | {0, 1}
    return len(shape) <= len(expected_shape) + 1 and all(d in allowed for d in shape)


def compare(actual, expected, tol=DEFAULT, where="result"):
    """The reasons actual does not match expected (messages); empty means it matches.

    Messages give shapes, dtypes, positions and measured errors, never the expected values.
    tol may be a Tol or a dict mapping top-level output names to Tols. problems() gives the
    same findings as Problem objects, with the wording for hidden checks.
    """
    return [p.text for p in problems(actual, expected, tol, where)]


def problems(actual, expected, tol=DEFAULT, where="result"):
    """The findings of compare() as Problem objects (kind, full text, hidden-check text)."""
    if isinstance(expected, dict) and isinstance(tol, dict):
        if not isinstance(actual, dict):
            return [Problem("type", where, say("expected-dict", got=_kind(actual)),
                            say("should-be-dict", got=_hidden_kind(actual)))]
        found = []
        for key, exp in expected.items():
            if key not in actual:
                found.append(Problem("missing", where, say("missing-key", key=repr(key))))
                continue
            found += problems(actual[key], exp, tol.get(key, DEFAULT), f"{key}")
        return found
    if isinstance(tol, dict):
        tol = DEFAULT
    if isinstance(expected, Raised):
        return _compare_raised(actual, expected, where)
    if isinstance(expected, np.ndarray):
        return _compare_arrays(actual, expected, tol, where)
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(actual) is type(expected) and actual == expected:
            return []
        if isinstance(expected, bool) and isinstance(actual, np.ndarray) and actual.shape == ():
            if actual.dtype.kind == "b" and bool(actual) == expected:
                return []
        same_kind = type(actual) is type(expected) or (
            isinstance(expected, bool) and isinstance(actual, np.ndarray) and actual.shape == ())
        hidden = say("wrong-value") if same_kind else \
            say("should-be", want=_plain(type(expected)), got=_hidden_kind(actual))
        return [Problem("value" if same_kind else "type", where,
                        say("returned-wrong", value=_short(actual)), hidden)]
    if isinstance(expected, (int, float)):
        return _compare_scalar(actual, expected, tol, where)
    if isinstance(expected, (list, tuple)):
        name = type(expected).__name__
        if not isinstance(actual, (list, tuple)):
            return [Problem("type", where, say("expected-sequence", type=name,
                                               length=len(expected), got=_kind(actual)),
                            say("should-be-sequence", type=name, length=len(expected),
                                got=_hidden_kind(actual)))]
        if len(actual) != len(expected):
            own = len(actual) <= 2 * len(expected) + 1
            text = say("length", got=len(actual), want=len(expected))
            return [Problem("length", where, text, text if own else
                            say("wrong-length", want=len(expected)))]
        found = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            found += problems(a, e, tol, f"{where}[{i}]")
        return found
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [Problem("type", where, say("expected-dict", got=_kind(actual)),
                            say("should-be-dict", got=_hidden_kind(actual)))]
        found = []
        for key, exp in expected.items():
            if key not in actual:
                found.append(Problem("missing", where, say("missing-key", key=repr(key))))
            else:
                found += problems(actual[key], exp, tol, f"{where}[{key!r}]")
        return found
    raise TypeError(f"cannot compare against expected value of type {type(expected).__name__}")


def _compare_raised(actual, expected, where):
    if actual == expected:
        return []
    got = actual.name if isinstance(actual, Raised) and actual.name else None
    if expected.name is None:
        return [Problem("raised", where, say("raised-unexpected", got=got or "?"),
                        say("raised-unexpected", got=exception_name(got, True) if got
                            else say("exc.some")))]
    if got is None:
        nothing = say("should-raise-none", want=expected.name)
        return [Problem("raised", where, nothing, nothing)]
    return [Problem("raised", where, say("should-raise", want=expected.name, got=got),
                    say("should-raise", want=expected.name, got=exception_name(got, True)))]


# How a wrong result relates to the right one, when it is that simple. Said instead of numbers
# on hidden checks, and added to the numbers on public ones.
_PATTERNS = {name: say("pattern." + name) for name in ("sign", "transposed", "offset", "scale")}


def _pattern(a, e, tol):
    """'sign', 'transposed', 'offset', 'scale' or None for float arrays a and e of one shape."""
    if not (np.isfinite(a).all() and np.isfinite(e).all()) or not np.any(e != 0):
        return None
    slack = 1e-9 * float(np.max(np.abs(e)))  # the fitted constants carry rounding

    def fits(target):
        return bool(np.all(np.abs(a - target) <= tol.atol + tol.rtol * np.abs(target) + slack))

    if fits(-e):
        return "sign"
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and fits(e.T):
        return "transposed"
    if a.size < 2 or float(np.ptp(e)) == 0.0:
        return None  # one number, or a constant: every wrong value is a shift and a factor
    shift = float(np.median(a - e))
    if shift != 0.0 and fits(e + shift):
        return "offset"
    factor = float(np.dot(a.ravel(), e.ravel()) / np.dot(e.ravel(), e.ravel()))
    if abs(factor) > 1e-12 and fits(factor * e):
        return "scale"
    return None


def _compare_scalar(actual, expected, tol, where):
    if isinstance(actual, np.ndarray) and actual.size == 1 and actual.ndim <= 2:
        actual = actual.reshape(()).item()
        if isinstance(actual, np.floating):  # item() keeps np.longdouble
            actual = float(actual)
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return [Problem("type", where, say("expected-number", got=_kind(actual)),
                        say("should-be-number", got=_hidden_kind(actual)))]
    if math.isnan(actual) and not math.isnan(expected):
        return [Problem("nan", where, say("is-nan"))]
    if math.isinf(actual) and not math.isinf(expected):
        return [Problem("inf", where, say("is-inf"))]
    if math.isinf(expected) and actual == expected:
        return []
    err = abs(actual - expected)
    allowed = tol.atol + tol.rtol * abs(expected) if math.isfinite(expected) else 0.0  # inf: exact
    if err <= allowed or (math.isnan(actual) and math.isnan(expected)):
        return []
    text = say("error-exceeds", error=float(err), allowed=float(allowed), rule=_rule(tol))
    if math.isfinite(expected) and _pattern(np.array([actual]), np.array([expected]), tol):
        return [Problem("sign", where, say("with-pattern", text=text, pattern=_PATTERNS["sign"]),
                        _PATTERNS["sign"])]
    return [Problem("value", where, text, say("wrong-value-tol"))]


def _compare_arrays(actual, expected, tol, where):
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and expected.ndim == 0:
        actual = np.asarray(actual)
    if isinstance(actual, (list, tuple)):
        # Numbers only: a list of strings, None or exceptions is no array of numbers (asarray
        # with dtype=float would read "1" and None as numbers).
        try:
            converted = np.asarray(actual)
        except (TypeError, ValueError):
            return [Problem("type", where, say("expected-array", shape=expected.shape,
                                               got=say("kind.ragged")))]
        if converted.dtype.kind not in _NUMERIC_KINDS:
            return [Problem("type", where, say("expected-array", shape=expected.shape, got=say(
                "kind.non-numeric", type=type(actual).__name__)))]
        actual = converted
    if not isinstance(actual, np.ndarray):
        return [Problem("type", where, say("expected-array", shape=expected.shape,
                                           got=_kind(actual)),
                        say("should-be-array", shape=expected.shape, got=_hidden_kind(actual)))]
    if actual.shape != expected.shape:
        text = say("shape", got=actual.shape, want=expected.shape)
        return [Problem("shape", where, text, text if _own_shape(actual.shape, expected.shape)
                        else say("wrong-shape", want=expected.shape))]
    if expected.size == 0:
        return []
    if actual.dtype.kind == "b" and expected.dtype.kind != "b":
        return [Problem("dtype", where, say("dtype-bool", want=str(expected.dtype)))]
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    for kind, bad in (("NaN", np.isnan(a) & ~np.isnan(e)), ("inf", np.isinf(a) & ~np.isinf(e))):
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return [Problem(kind.lower(), where, say("contains-" + kind.lower(),
                                                     count=int(bad.sum()), size=int(a.size),
                                                     index=idx))]
    both_special = (np.isnan(a) & np.isnan(e)) | (np.isinf(e) & (a == e))
    err = np.where(both_special, 0.0, np.abs(a - e))
    allowed = tol.atol + tol.rtol * np.abs(np.where(np.isfinite(e), e, 0.0))
    excess = err - allowed
    bad = excess > 0
    if not bad.any():
        return []
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
    text = say("entries-outside", count=int(bad.sum()), size=int(a.size),
               error=float(err[worst]), index=worst, allowed=float(allowed[worst]),
               rule=_rule(tol))
    pattern = _pattern(a, e, tol)
    if pattern:
        return [Problem(pattern, where, say("with-pattern", text=text,
                                            pattern=_PATTERNS[pattern]), _PATTERNS[pattern])]
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return [Problem("value", where, text, say("wrong-values-at", index=first))]
