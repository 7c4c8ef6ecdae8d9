"""The wire format and the tolerance comparison shared by sandbox, judge and otter files."""

import base64
import math

import numpy as np
import pytest

from autograder import checklib
from autograder.checklib import EXACT, Opaque, Raised, Tol, decode, encode, normalize
from autograder.i18n import say_in


def compare(*args, **kwargs):
    """checklib.compare's findings worded in English."""
    return [say_in("en", m) for m in checklib.compare(*args, **kwargs)]


def test_round_trip_keeps_types_shapes_and_dtypes():
    """Do arrays (dtype, shape), tuples, dicts, NaN/inf and exception records survive?"""
    value = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "t": (1, 2.5, "x", None, True),
             "l": [np.int64(3), float("nan"), float("-inf")], "r": Raised("ValueError")}
    back = normalize(value)
    assert back["a"].dtype == np.float32 and back["a"].shape == (2, 3)
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["t"] == (1, 2.5, "x", None, True)
    assert back["l"][0].shape == () and int(back["l"][0]) == 3
    assert math.isnan(back["l"][1]) and back["l"][2] == float("-inf")
    assert back["r"] == Raised("ValueError")


def test_torch_tensors_become_arrays():
    """Does a tensor with grad become a plain array of the same dtype?"""
    import torch
    t = torch.ones(2, 2, dtype=torch.float64, requires_grad=True) * 2
    back = normalize(t)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64 and back[0, 0] == 2


def test_unsupported_values_are_opaque_not_pickled():
    """Are arbitrary objects described, never serialized (no pickle anywhere)?"""
    class Evil:
        def __reduce__(self):
            raise RuntimeError("must not be pickled")
    back = normalize({"x": Evil(), "s": np.array(["a", "b"])})
    assert isinstance(back["x"], Opaque) and "Evil" in repr(back["x"])
    assert isinstance(back["s"], Opaque)


@pytest.mark.parametrize("bad", [
    {"__nd__": "|O", "shape": [1], "b64": ""},
    {"__nd__": "<f8", "shape": [3], "b64": base64.b64encode(b"\0" * 16).decode()},
    {"__nd__": "<f8", "shape": [-1], "b64": ""},
    {"__float__": "1e400; import os"},
    {"__unknown__": 1},
    {"__dict__": [[1, 2]]},
])
def test_decode_rejects_malformed_or_dangerous_data(bad):
    """Does decoding untrusted data refuse object dtypes, wrong lengths and unknown tags?"""
    with pytest.raises(ValueError):
        decode(bad)


def test_compare_reports_shape_nan_and_error_without_expected_values():
    """Do messages give shape, NaN position and the measured error, never expected values?"""
    expected = np.array([1.2345678, 2.0, 3.0])
    assert compare(expected.copy(), expected, EXACT) == []
    msg = compare(expected[:, None], expected, EXACT)[0]
    assert "shape (3, 1), expected shape (3,)" in msg
    msg = compare(np.array([1.2345678, np.nan, 3.0]), expected, Tol(1e-6, 0))[0]
    assert "contains NaN" in msg and "(1,)" in msg
    msg = compare(np.array([1.2345678, 2.5, 3.0]), expected, Tol(atol=1e-3, rtol=1e-2))[0]
    assert "largest error 0.5 at index (1,)" in msg
    assert "0.001 + 0.01*|expected|" in msg and "allowed 0.021" not in msg
    assert "1.2345678" not in msg and "2.0" not in msg.split("error")[0]


def test_tolerance_rule_is_atol_plus_rtol_times_expected():
    """Is an entry accepted exactly when |a - e| <= atol + rtol*|e|?"""
    tol = Tol(atol=0.1, rtol=0.01)
    assert compare(np.array([100.0 + 1.1]), np.array([100.0]), tol) == []
    assert compare(np.array([100.0 + 1.11]), np.array([100.0]), tol) != []
    assert compare(1.0 + 0.09, 1.0, Tol(atol=0.1)) == []
    assert compare(1.0 + 0.11, 1.0, Tol(atol=0.1)) != []
    with pytest.raises(ValueError):
        Tol(atol=-1)


def test_compare_structures_and_exceptions():
    """Tuples, dicts, strings, bools and expected exceptions each have a clear verdict."""
    assert compare((1.0, "a"), (1.0, "a")) == []
    assert "length 1, expected length 2" in compare((1.0,), (1.0, "a"))[0]
    assert "missing key 'dW1'" in compare({"db1": 1.0}, {"dW1": 1.0, "db1": 1.0})[0]
    assert "returned 'f1'" in compare("f1", "tie")[0]
    assert compare(Raised("ValueError"), Raised("ValueError")) == []
    assert "should raise ValueError, raised nothing" in compare(Raised(None),
                                                                Raised("ValueError"))[0]
    assert compare(np.float64(2.0), 2.0) == [] and compare(np.array(True), True) == []
    assert "expected a number" in compare("2", 2.0)[0]


def test_names_view_reports_missing_name():
    """Does looking up an undefined function raise MissingName('predict is not defined')?"""
    names = checklib.Names({"a": 1})
    assert names["a"] == 1
    with pytest.raises(checklib.MissingName, match="predict is not defined"):
        names["predict"]


def test_unpack_names_the_expected_return():
    """Does unpack explain a wrong return structure?"""
    assert checklib.unpack((1, 2, 3), 3, "(w, b, mistakes)") == (1, 2, 3)
    with pytest.raises(checklib.WrongReturn) as caught:
        checklib.unpack((1, 2), 3, "(w, b, mistakes)")
    assert say_in("en", caught.value.message) == \
        "should return (w, b, mistakes), returned a tuple of length 2"
    assert say_in("es", caught.value.message) == \
        "debería devolver (w, b, mistakes), devolvió un tuple de longitud 2"
    assert encode(Raised(None)) == {"__raised__": None}
