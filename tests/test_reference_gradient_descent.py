"""Reference, mistakes and student files of the gradient_descent assignment.

Gradient descent on quadratics has a closed form, x_n = x* + (I - lr A)^n (x0 - x*), which
the reference is checked against; minibatch SGD is checked against full-batch gradient
descent, a hand-computed epoch and the least-squares solution.
"""
import warnings
from functools import partial

import numpy as np
import pytest

from assignment_consistency import (AssignmentFiles, ConsistencyTests, arrays_differ,
                                   assert_mistake_differs)

FILES = AssignmentFiles.load("gradient_descent")
ref, mistakes = FILES.reference, FILES.mistakes


class TestConsistency(ConsistencyTests):
    """The files agree with each other (shared tests, see assignment_consistency)."""

    files = FILES


# --- the reference is right -----------------------------------------------------------

def _quadratic(d, rng, eigenvalues=None):
    """Random SPD A = Q diag(lambda) Q^T, b, the gradient and the minimizer."""
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    lam = rng.uniform(0.5, 5.0, size=d) if eigenvalues is None else np.asarray(eigenvalues)
    A = (Q * lam) @ Q.T
    A = (A + A.T) / 2
    b = rng.normal(size=d)
    return A, b, (lambda x: A @ x - b), np.linalg.solve(A, b)


def test_gradient_descent_matches_closed_form():
    """On a quadratic, row n of the trajectory is x* + (I - lr A)^n (x0 - x*) and row 0
    is x0; the result is a float (n_steps + 1, d) array."""
    A, b, grad, x_star = _quadratic(4, np.random.default_rng(0))
    x0 = np.array([1, -2, 3, 0])                 # ints: the trajectory must still be float
    path = ref.gradient_descent(grad, x0, 0.1, 25)
    assert path.shape == (26, 4) and path.dtype == np.float64
    M = np.eye(4) - 0.1 * A
    expected = [x_star + np.linalg.matrix_power(M, n) @ (x0 - x_star) for n in range(26)]
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-12)


def test_gradient_descent_zero_steps_and_mutating_gradient():
    """n_steps = 0 gives just x0 (shape (1, d)); a grad_f that writes into its argument
    cannot change the recorded trajectory."""
    assert ref.gradient_descent(lambda x: x, np.array([3.0]), 0.5, 0).tolist() == [[3.0]]

    def rude_grad(x):
        g = 2 * x
        x[:] = 1e9
        return g
    path = ref.gradient_descent(rude_grad, np.array([1.0, 2.0]), 0.25, 2)
    np.testing.assert_allclose(path, [[1, 2], [0.5, 1], [0.25, 0.5]])


@pytest.mark.parametrize("x0,n_steps", [(np.ones((2, 2)), 3), (np.ones(2), -1)])
def test_gradient_descent_rejects_bad_input(x0, n_steps):
    """A 2-D x0 or negative n_steps raises ValueError."""
    with pytest.raises(ValueError, match="gradient_descent"):
        ref.gradient_descent(lambda x: x, x0, 0.1, n_steps)


def test_max_stable_lr_is_two_over_lambda_max():
    """For A = Q diag(0.5, 2, 8) Q^T the bound is 2/8; GD converges just below it and
    diverges just above it."""
    A, b, grad, x_star = _quadratic(3, np.random.default_rng(1), [0.5, 2.0, 8.0])
    lr_max = ref.max_stable_lr(A)
    assert isinstance(lr_max, float) and lr_max == pytest.approx(0.25, rel=1e-12)
    x0 = np.array([1.0, 1.0, 1.0])
    below = ref.gradient_descent(grad, x0, 0.99 * lr_max, 2000)[-1]
    above = ref.gradient_descent(grad, x0, 1.01 * lr_max, 2000)[-1]
    assert np.linalg.norm(below - x_star) < 1e-6
    assert np.linalg.norm(above - x_star) > 1e3


def test_max_stable_lr_accepts_rounding_asymmetry():
    """X^T X / m computed in floating point is accepted as symmetric."""
    X = np.random.default_rng(2).normal(size=(50, 5))
    A = X.T @ X / 50
    assert ref.max_stable_lr(A) == pytest.approx(2 / np.linalg.eigvalsh(A)[-1])


@pytest.mark.parametrize("A,reason", [
    (np.ones((2, 3)), "square"),
    (np.array([[2.0, 1.0], [0.0, 2.0]]), "not symmetric"),
    (np.array([[1.0, 0.0], [0.0, -1.0]]), "not positive definite"),
    (np.diag([1.0, 0.0]), "not positive definite"),                   # singular: lambda = 0
    (np.array([[np.nan, 0.0], [0.0, 1.0]]), "NaN"),
])
def test_max_stable_lr_rejects_invalid_matrices(A, reason):
    """Non-square, non-symmetric, indefinite, singular or non-finite A raise ValueError
    saying which condition failed."""
    with pytest.raises(ValueError, match=reason):
        ref.max_stable_lr(A)


def test_steps_to_converge_matches_closed_form():
    """The answer is the first n with ||A (I - lr A)^n (x0 - x*)|| < tol, computed here from
    the closed form, for several learning rates."""
    A, b, grad, x_star = _quadratic(3, np.random.default_rng(3), [1.0, 3.0, 10.0])
    x0 = np.array([2.0, -1.0, 0.5])
    for lr in (0.01, 0.1, 0.18):
        M = np.eye(3) - lr * A
        norms = [np.linalg.norm(A @ np.linalg.matrix_power(M, n) @ (x0 - x_star))
                 for n in range(3000)]
        expected = next(n for n, g in enumerate(norms) if g < 1e-8)
        assert ref.steps_to_converge(grad, x0, lr, 1e-8, 5000) == expected


def test_steps_to_converge_edge_cases():
    """0 when x0 already satisfies the tolerance; max_steps itself counts; -1 when the
    tolerance is reached only after max_steps; -1 without warnings when GD diverges."""
    grad = lambda x: 2.0 * x                                    # f = ||x||^2
    assert ref.steps_to_converge(grad, np.zeros(2), 0.1, 1e-3, 10) == 0
    # ||grad(x_n)|| = 2 * 0.5^n: below 1e-3 first at n = 11.
    assert ref.steps_to_converge(grad, np.array([1.0]), 0.25, 1e-3, 11) == 11
    assert ref.steps_to_converge(grad, np.array([1.0]), 0.25, 1e-3, 10) == -1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ref.steps_to_converge(grad, np.array([1.0]), 1.5, 1e-3, 5000) == -1


def _least_squares(rng, m=23, d=3):
    X = rng.normal(size=(m, d))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=m)


def test_full_batch_sgd_is_gradient_descent():
    """With batch_size >= m every update is a full gradient step on (1/(2m))||Xw - y||^2,
    so the trajectory equals gradient_descent's (the permutation only reorders sums)."""
    X, y = _least_squares(np.random.default_rng(4))
    w0 = np.zeros(3)
    sgd = ref.minibatch_sgd(X, y, w0, 0.1, 100, 30, np.random.default_rng(5))
    gd = ref.gradient_descent(lambda w: X.T @ (X @ w - y) / len(y), w0, 0.1, 30)
    np.testing.assert_allclose(sgd, gd, rtol=1e-10, atol=1e-12)


def test_sgd_epoch_by_hand():
    """m = 3, batch_size = 2, one epoch: batches are perm[:2] then perm[2:] (size 1), with
    gradients divided by 2 and by 1; rng then stands exactly one permutation further."""
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([1.0, -1.0, 3.0])
    rng, replay = np.random.default_rng(6), np.random.default_rng(6)
    path = ref.minibatch_sgd(X, y, np.array([0.5, 0.5]), 0.3, 2, 1, rng)
    perm = replay.permutation(3)
    w = np.array([0.5, 0.5])
    expected = [w]
    for idx in (perm[:2], perm[2:]):
        w = w - 0.3 * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
        expected.append(w)
    np.testing.assert_allclose(path, expected, rtol=1e-14)
    assert rng.bit_generator.state == replay.bit_generator.state


def test_sgd_shape_and_convergence_to_least_squares():
    """The trajectory has epochs * ceil(m / batch_size) + 1 rows, starts at w0 (unchanged)
    and ends near the least-squares solution."""
    X, y = _least_squares(np.random.default_rng(7), m=200)
    w0 = np.array([5.0, 5.0, 5.0])
    path = ref.minibatch_sgd(X, y, w0, 0.05, 32, 60, np.random.default_rng(8))
    assert path.shape == (60 * 7 + 1, 3)
    assert path[0].tolist() == [5.0, 5.0, 5.0] and w0.tolist() == [5.0, 5.0, 5.0]
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    assert np.linalg.norm(path[-1] - w_ls) < 0.05


@pytest.mark.parametrize("kwargs", [dict(y=np.ones(4)), dict(w0=np.ones(2)),
                                    dict(batch_size=0), dict(epochs=-1)])
def test_sgd_rejects_bad_input(kwargs):
    """Mismatched y or w0, batch_size < 1 or epochs < 0 raise ValueError."""
    args = dict(X=np.ones((5, 3)), y=np.ones(5), w0=np.ones(3), lr=0.1, batch_size=2,
                epochs=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="minibatch_sgd"):
        ref.minibatch_sgd(**{**args, **kwargs})


# --- every mistake is detectable ------------------------------------------------------

def _typical_args(function):
    rng = np.random.default_rng(9)
    A, b, grad, _ = _quadratic(3, rng, [1.0, 4.0, 10.0])
    if function == "gradient_descent":
        return (grad, np.array([1.0, 2.0, -1.0]), 0.1, 10)
    if function == "max_stable_lr":
        return (A,)
    if function == "steps_to_converge":
        return (grad, np.array([1.0, 2.0, -1.0]), 0.1, 1e-6, 1000)
    if function == "minibatch_sgd":
        X, y = _least_squares(rng, m=10)
        return (X, y, np.zeros(3), 0.1, 4, 3, rng)
    raise AssertionError(f"no typical input for {function}")


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m["id"])
def test_mistake_differs_from_reference(mistake):
    """With the same inputs and seed, the wrong variant's output differs from the
    reference's beyond rtol 1e-6 (or in shape), so the judge can tell them apart."""
    assert_mistake_differs(ref, mistake, _typical_args, partial(arrays_differ, atol=1e-12))
