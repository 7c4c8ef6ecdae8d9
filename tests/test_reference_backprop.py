"""Reference, mistakes and student files of the backprop assignment.

The reference is checked by independent means (torch autograd, scipy, finite differences
written here), so a bug in it cannot hide behind a matching bug in the check.
"""
import warnings

import numpy as np
import pytest
import scipy.special
import torch

from assignment_consistency import AssignmentFiles, ConsistencyTests

FILES = AssignmentFiles.load("backprop")
ref, mistakes = FILES.reference, FILES.mistakes


class TestConsistency(ConsistencyTests):
    """The files agree with each other (shared tests, see assignment_consistency)."""

    files = FILES


# --- the reference is right -----------------------------------------------------------

def _params(rng, n_x=3, n_h=4):
    return {"W1": rng.normal(size=(n_x, n_h)), "b1": rng.normal(size=(n_h, 1)),
            "W2": rng.normal(size=(n_h, 1)), "b2": rng.normal(size=(1, 1))}


def _data(rng, n_x=3, m=7):
    return rng.normal(size=(n_x, m)), (rng.random((1, m)) > 0.5).astype(float)


def _torch_cost_and_grads(X, Y, params):
    """The same network written independently in torch; returns (cost, grads, A2)."""
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    A1 = torch.tanh(t["W1"].T @ torch.tensor(X) + t["b1"])
    Z2 = t["W2"].T @ A1 + t["b2"]
    cost = torch.nn.functional.binary_cross_entropy_with_logits(Z2, torch.tensor(Y))
    cost.backward()
    return cost.item(), {"d" + k: v.grad.numpy() for k, v in t.items()}, torch.sigmoid(Z2)


def test_sigmoid_matches_scipy_and_does_not_overflow():
    """sigmoid equals scipy's expit, keeps the shape, and gives exactly 0 and 1 at
    z = -1000 and z = 1000 without floating-point warnings."""
    z = np.linspace(-40, 40, 81).reshape(9, 9)
    np.testing.assert_allclose(ref.sigmoid(z), scipy.special.expit(z), rtol=1e-14, atol=0)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert ref.sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]


def test_activation_derivatives_match_autograd():
    """sigmoid_derivative and tanh_derivative are derivatives w.r.t. z (torch autograd)."""
    z = torch.linspace(-6, 6, 25, dtype=torch.float64, requires_grad=True)
    ds, = torch.autograd.grad(torch.sigmoid(z).sum(), z)
    dt, = torch.autograd.grad(torch.tanh(z).sum(), z)
    np.testing.assert_allclose(ref.sigmoid_derivative(z.detach().numpy()), ds, rtol=1e-12)
    np.testing.assert_allclose(ref.tanh_derivative(z.detach().numpy()), dt, rtol=1e-12,
                               atol=1e-15)


def test_forward_and_cost_match_torch():
    """forward returns A2 (1, m) and the cache Z1, A1, Z2, A2 with their shapes, and
    compute_cost equals torch's mean binary cross-entropy, as a Python float."""
    rng = np.random.default_rng(1)
    params, (X, Y) = _params(rng), _data(rng)
    A2, cache = ref.forward(X, params)
    cost, _, A2_torch = _torch_cost_and_grads(X, Y, params)
    assert set(cache) == {"Z1", "A1", "Z2", "A2"}
    assert cache["Z1"].shape == cache["A1"].shape == (4, 7) and cache["Z2"].shape == (1, 7)
    np.testing.assert_allclose(A2, A2_torch.detach().numpy(), rtol=1e-12)
    value = ref.compute_cost(A2, Y)
    assert isinstance(value, float)
    assert value == pytest.approx(cost, rel=1e-12)


def test_cost_is_finite_for_saturated_outputs():
    """With A2 exactly 0 or 1 the cost is clipped at eps = 1e-12: a confident wrong
    prediction costs -ln(1e-12) and a confident right one about 0."""
    Y = np.array([[1.0, 0.0]])
    assert ref.compute_cost(np.array([[0.0, 1.0]]), Y) == pytest.approx(-np.log(1e-12))
    assert ref.compute_cost(np.array([[1.0, 0.0]]), Y) == pytest.approx(0.0, abs=1e-11)


def test_cost_rejects_mismatched_shapes():
    """compute_cost raises ValueError naming both shapes when A2 and Y differ."""
    with pytest.raises(ValueError, match=r"\(1, 3\).*\(3, 1\)"):
        ref.compute_cost(np.full((1, 3), 0.5), np.ones((3, 1)))


@pytest.mark.parametrize("n_x,n_h,m", [(3, 4, 7), (5, 2, 1), (1, 6, 20)])
def test_backward_matches_autograd(n_x, n_h, m):
    """backward equals torch autograd of the mean cross-entropy, with param shapes."""
    rng = np.random.default_rng(n_x * 100 + m)
    params, (X, Y) = _params(rng, n_x, n_h), _data(rng, n_x, m)
    grads = ref.backward(X, Y, params, ref.forward(X, params)[1])
    _, expected, _ = _torch_cost_and_grads(X, Y, params)
    assert set(grads) == {"dW1", "db1", "dW2", "db2"}
    for k, g in expected.items():
        assert grads[k].shape == g.shape
        np.testing.assert_allclose(grads[k], g, rtol=1e-10, atol=1e-13)


def test_backward_matches_central_differences():
    """backward agrees with numerical_gradient of compute_cost(forward(...)) on every
    parameter (relative error below 1e-7, the usual gradient-check threshold)."""
    rng = np.random.default_rng(2)
    params, (X, Y) = _params(rng), _data(rng)
    grads = ref.backward(X, Y, params, ref.forward(X, params)[1])
    for k in params:
        num = ref.numerical_gradient(lambda: ref.compute_cost(ref.forward(X, params)[0], Y),
                                     params[k])
        rel = np.linalg.norm(num - grads["d" + k]) / (np.linalg.norm(num) +
                                                      np.linalg.norm(grads["d" + k]))
        assert rel < 1e-7, k


def test_numerical_gradient_on_known_function_restores_x():
    """numerical_gradient of sum(sin(x) * x^2) matches the analytic derivative, has x's
    shape and leaves x bit-for-bit unchanged."""
    x = np.random.default_rng(3).normal(size=(3, 4))
    before = x.copy()
    g = ref.numerical_gradient(lambda: float(np.sum(np.sin(x) * x ** 2)), x)
    assert g.shape == x.shape
    np.testing.assert_allclose(g, np.cos(x) * x ** 2 + 2 * x * np.sin(x), atol=1e-8)
    assert np.array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    """If f raises, the exception propagates and x still holds its original values."""
    x = np.array([1.0, 2.0])

    def f():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        ref.numerical_gradient(f, x)
    assert x.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("x", [np.array([1, 2, 3]), [1.0, 2.0]])
def test_numerical_gradient_rejects_non_float_arrays(x):
    """Integer arrays (x + eps would truncate) and lists raise TypeError."""
    with pytest.raises(TypeError, match="floating-point numpy array"):
        ref.numerical_gradient(lambda: 0.0, x)


def test_update_parameters_steps_down_without_mutating():
    """update_parameters returns params - lr * grads in a new dict; the input dict and
    its arrays are unchanged."""
    rng = np.random.default_rng(4)
    params = _params(rng)
    grads = {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}
    snapshot = {k: v.copy() for k, v in params.items()}
    new = ref.update_parameters(params, grads, 0.1)
    assert new is not params
    for k in params:
        np.testing.assert_array_equal(params[k], snapshot[k])
        np.testing.assert_allclose(new[k], snapshot[k] - 0.1 * grads["d" + k])


def test_training_on_toy_data_lowers_the_cost():
    """The pieces fit together: 500 steps on the stub's toy data reduce the cost."""
    namespace = {}
    exec(FILES.stub_sections()["setup"], namespace)
    X, Y = namespace["X_toy"], namespace["Y_toy"]
    params = _params(np.random.default_rng(5), 2, 8)
    first = ref.compute_cost(ref.forward(X, params)[0], Y)
    for _ in range(500):
        A2, cache = ref.forward(X, params)
        params = ref.update_parameters(params, ref.backward(X, Y, params, cache), 0.5)
    assert ref.compute_cost(ref.forward(X, params)[0], Y) < 0.5 * first


# --- every mistake is detectable ------------------------------------------------------

def _typical_args(function, rng):
    params, (X, Y) = _params(rng), _data(rng)
    if function in ("sigmoid_derivative", "tanh_derivative"):
        return (rng.normal(size=(3, 5)),)
    if function == "compute_cost":
        return (ref.forward(X, params)[0], Y)
    if function == "backward":
        return (X, Y, params, ref.forward(X, params)[1])
    if function == "numerical_gradient":
        x = rng.normal(size=(2, 3))
        return (lambda: float(np.sum(np.exp(x))), x)
    if function == "update_parameters":
        return (params, {"d" + k: rng.normal(size=v.shape) for k, v in params.items()}, 0.1)
    raise AssertionError(f"no typical input for {function}")


def _differs(a, b):
    if isinstance(a, dict):
        return a.keys() != b.keys() or any(_differs(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape != b.shape or not np.allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference(mistake):
    """On typical inputs the wrong variant's output is far from the reference (beyond
    rtol 1e-6), so the judge can tell the two apart."""
    expected = getattr(ref, mistake["function"])(*_typical_args(mistake["function"],
                                                               np.random.default_rng(6)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = mistake["variant"](*_typical_args(mistake["function"], np.random.default_rng(6)))
    assert _differs(got, expected)
