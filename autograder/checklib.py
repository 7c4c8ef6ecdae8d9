"""Plain-data wire format, name lookup and tolerance comparison.

This module is deliberately standalone (stdlib + numpy only): the same source runs in three
places that must agree exactly:

* the sandboxed harness, to turn a student's return values into plain data;
* the trusted parent, to decode that data and compare it with the reference;
* the otter test files of a release, where it is embedded verbatim.

Nothing here is secret: it holds no expected value and no reference code.
"""

import base64
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
    """Raised by a probe when a function returns the wrong kind of thing (e.g. not a tuple)."""


def unpack(value, n, what):
    """Split a returned tuple/list of n items, or raise WrongReturn naming what was expected."""
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = f"a {type(value).__name__}" + (f" of length {len(value)}"
                                             if isinstance(value, (tuple, list)) else "")
        raise WrongReturn(f"should return {what}, returned {got}")
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
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else float(value)
    if isinstance(value, float):
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


EXACT = Tol(0.0, 0.0)
DEFAULT = Tol(atol=1e-9, rtol=1e-6)


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, Opaque):
        return f"an unsupported value {value!r}"
    return f"a value of type {type(value).__name__}"


def compare(actual, expected, tol=DEFAULT, where="result"):
    """Return the list of reasons actual does not match expected; empty means it matches.

    Messages give shapes, dtypes, positions and measured errors, never the expected values.
    tol may be a Tol or a dict mapping top-level output names to Tols.
    """
    if isinstance(expected, dict) and isinstance(tol, dict):
        problems = []
        if not isinstance(actual, dict):
            return [f"{where}: expected a dict, got {_kind(actual)}"]
        for key, exp in expected.items():
            if key not in actual:
                problems.append(f"{where}: missing key {key!r}")
                continue
            problems += compare(actual[key], exp, tol.get(key, DEFAULT), f"{key}")
        return problems
    if isinstance(tol, dict):
        tol = DEFAULT
    if isinstance(expected, Raised):
        if actual == expected:
            return []
        if expected.name is None:
            return [f"{where}: raised {getattr(actual, 'name', '?')} where no exception is expected"]
        got = actual.name if isinstance(actual, Raised) and actual.name else "nothing"
        return [f"{where}: should raise {expected.name}, raised {got}"]
    if isinstance(expected, np.ndarray):
        return _compare_arrays(actual, expected, tol, where)
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(actual) is type(expected) and actual == expected:
            return []
        if isinstance(expected, bool) and isinstance(actual, np.ndarray) and actual.shape == ():
            if actual.dtype.kind == "b" and bool(actual) == expected:
                return []
        return [f"{where}: returned {_short(actual)}, which is not correct"]
    if isinstance(expected, (int, float)):
        return _compare_scalar(actual, expected, tol, where)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)):
            return [f"{where}: expected a {type(expected).__name__} of length {len(expected)}, "
                    f"got {_kind(actual)}"]
        if len(actual) != len(expected):
            return [f"{where}: length {len(actual)}, expected length {len(expected)}"]
        problems = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            problems += compare(a, e, tol, f"{where}[{i}]")
        return problems
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a dict, got {_kind(actual)}"]
        problems = []
        for key, exp in expected.items():
            if key not in actual:
                problems.append(f"{where}: missing key {key!r}")
            else:
                problems += compare(actual[key], exp, tol, f"{where}[{key!r}]")
        return problems
    raise TypeError(f"cannot compare against expected value of type {type(expected).__name__}")


def _compare_scalar(actual, expected, tol, where):
    if isinstance(actual, np.ndarray) and actual.size == 1 and actual.ndim <= 2:
        actual = actual.reshape(()).item()
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return [f"{where}: expected a number, got {_kind(actual)}"]
    if math.isnan(actual) and not math.isnan(expected):
        return [f"{where}: is NaN"]
    if math.isinf(actual) and not math.isinf(expected):
        return [f"{where}: is infinite"]
    if math.isinf(expected) and actual == expected:
        return []
    err = abs(actual - expected)
    allowed = tol.atol + tol.rtol * abs(expected) if math.isfinite(expected) else 0.0  # inf: exact
    if err <= allowed or (math.isnan(actual) and math.isnan(expected)):
        return []
    return [f"{where}: error {err:.3g} exceeds the allowed {allowed:.3g} ({tol.describe()})"]


def _compare_arrays(actual, expected, tol, where):
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and expected.ndim == 0:
        actual = np.asarray(actual)
    if isinstance(actual, (list, tuple)):
        try:
            actual = np.asarray(actual, dtype=float)
        except (TypeError, ValueError):
            return [f"{where}: expected an array of shape {expected.shape}, got a ragged list"]
    if not isinstance(actual, np.ndarray):
        return [f"{where}: expected an array of shape {expected.shape}, got {_kind(actual)}"]
    if actual.shape != expected.shape:
        return [f"{where}: shape {actual.shape}, expected shape {expected.shape}"]
    if expected.size == 0:
        return []
    if actual.dtype.kind == "b" and expected.dtype.kind != "b":
        return [f"{where}: dtype bool, expected a numeric array (dtype {expected.dtype})"]
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    bad_nan = np.isnan(a) & ~np.isnan(e)
    if bad_nan.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        return [f"{where}: contains NaN ({int(bad_nan.sum())} of {a.size} entries, "
                f"first at index {idx})"]
    bad_inf = np.isinf(a) & ~np.isinf(e)
    if bad_inf.any():
        idx = tuple(int(i) for i in np.argwhere(bad_inf)[0])
        return [f"{where}: contains inf ({int(bad_inf.sum())} of {a.size} entries, "
                f"first at index {idx})"]
    both_special = (np.isnan(a) & np.isnan(e)) | (np.isinf(e) & (a == e))
    err = np.where(both_special, 0.0, np.abs(a - e))
    allowed = tol.atol + tol.rtol * np.abs(np.where(np.isfinite(e), e, 0.0))
    excess = err - allowed
    bad = excess > 0
    if not bad.any():
        return []
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), excess.shape))
    return [f"{where}: {int(bad.sum())} of {a.size} entries outside tolerance; largest error "
            f"{float(err[worst]):.3g} at index {worst} where {float(allowed[worst]):.3g} is "
            f"allowed ({tol.describe()})"]
