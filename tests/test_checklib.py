"""The wire format and the tolerance comparison shared by sandbox, judge and otter files."""

import base64
import json
import math

import numpy as np
import pytest

from neurograde import checklib
from neurograde.checklib import EXACT, Opaque, Raised, Tol, decode, encode, normalize
from neurograde.i18n import say_in


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


def wire(value):
    """value as the judge receives it from the sandbox: encoded, sent as JSON, decoded."""
    return decode(json.loads(json.dumps(encode(value))))


@pytest.mark.parametrize("value", [np.float64(-np.inf), np.float32(-np.inf), np.array(-np.inf),
                                   float("-inf")])
def test_minus_infinity_reads_in_every_allowed_type(value):
    """A float that may be -inf (gan_value) reads as -inf as np.float64, np.float32 or a 0-d
    array, through the sandbox's JSON and in the otter files' direct normalize, and matches
    only -inf."""
    for read in (wire(value), normalize(value)):
        assert compare(read, float("-inf")) == []
        assert compare(read, float("inf")) != []
        assert "is infinite" in compare(read, -1.0)[0]


def test_numpy_and_torch_scalars_read_as_numbers():
    """np.float64, np.float32 (within a tolerance its 7 digits meet), np.int64, np.bool_,
    np.longdouble, 0-d arrays and 0-d tensors compare as the Python numbers they hold, and
    np.str_ as a str, on both sides of the wire."""
    import torch
    cases = [(np.float64(0.1), 0.1), (np.float32(0.1), 0.1), (np.array(0.1), 0.1),
             (np.longdouble(0.5), 0.5), (torch.tensor(0.25), 0.25),
             (torch.tensor(0.25, requires_grad=True) * 1, 0.25), (np.int64(3), 3),
             (np.array(3), 3), (np.uint8(3), 3.0), (3, 3.0), (np.bool_(True), True),
             (np.str_("tie"), "tie"), ([np.float64(1.0), np.array(2.0)], [1.0, 2.0]),
             ((np.int64(1), np.str_("a")), (1, "a"))]
    for value, expected in cases:
        assert compare(wire(value), expected) == [], (value, expected)
        assert compare(normalize(value), normalize(expected)) == [], (value, expected)
    # float32 is read as it is: a check that asks for more than its 7 digits says so
    msg = compare(wire(np.float32(0.1)), 0.1, Tol(atol=1e-12))[0]
    assert msg.startswith("result: error 1.49e-09 exceeds the allowed 1e-12")


def test_lists_where_an_array_is_expected():
    """A list or tuple of numbers compares entry by entry with an expected array (shape
    included); an array where the expected value is a list is still a type mismatch."""
    expected = np.array([1.0, 2.0])
    assert compare(wire([1.0, 2.0]), expected) == []
    assert compare(wire((1, np.float32(2.0))), expected) == []
    assert compare(wire([[1.0, 2.0]]), expected.reshape(1, 2)) == []
    assert "shape (2, 1), expected shape (2,)" in compare(wire([[1.0], [2.0]]), expected)[0]
    assert "length 3, expected length 2" in compare(wire([1.0, 2.0, 3.0]), [1.0, 2.0])[0]
    assert "expected a list of length 2, got an array of shape (2,)" in \
        compare(wire(expected), [1.0, 2.0])[0]


@pytest.mark.parametrize("value, message", [
    ("2.0", "expected a number, got a value of type str"),
    (np.array("2.0"), "expected a number, got an unsupported value <array of dtype <U3>"),
    (None, "expected a number, got a value of type NoneType"),
    (True, "expected a number, got a value of type bool"),
    (np.bool_(True), "expected a number, got a value of type bool"),
    (1 + 2j, "expected a number, got an unsupported value <complex>"),
    ([2.0], "expected a number, got a value of type list"),
    (np.array([2.0, 2.0]), "expected a number, got an array of shape (2,)"),
])
def test_wrong_types_for_a_number_still_fail(value, message):
    """Where a float is expected, a string, None, a bool, a complex, a list or an array of
    more than one entry fails with a message naming what came back."""
    assert compare(wire(value), 2.0) == [f"result: {message}"]


@pytest.mark.parametrize("value, message", [
    (["1", "2"], "expected an array of shape (2,), got a list holding values that are not "
                 "numbers"),
    ([None, 1.0], "expected an array of shape (2,), got a list holding values that are not "
                  "numbers"),
    (("a", 1.0), "expected an array of shape (2,), got a tuple holding values that are not "
                 "numbers"),
    ([[1.0], [1.0, 2.0]], "expected an array of shape (2,), got a ragged list"),
    ([True, False], "dtype bool, expected a numeric array (dtype float64)"),
    (np.array([True, False]), "dtype bool, expected a numeric array (dtype float64)"),
    (1.0, "expected an array of shape (2,), got a value of type float"),
])
def test_wrong_types_for_an_array_still_fail(value, message):
    """Where an array of numbers is expected, strings, None, ragged lists and bools fail with
    a message naming what came back (a list of "1", "2" is no array of numbers)."""
    found = checklib.problems(wire(value), np.array([1.0, 0.0]))
    assert [say_in("en", p.text) for p in found] == [f"result: {message}"]
    assert found[0].kind in ("type", "dtype")
