"""Reference solution: gradient descent, its stability limit and minibatch SGD.

Trajectories are float arrays with one row per iterate, row 0 being the starting point,
so a student's path can be compared step by step with the reference.
"""
import numpy as np


# --- q1 -------------------------------------------------------------------------------

def gradient_descent(grad_f, x0, lr, n_steps):
    """Trajectory (n_steps + 1, d) of x_{n+1} = x_n - lr * grad_f(x_n); row 0 is x0.

    Raises ValueError if x0 is not 1-D or n_steps < 0.
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 1:
        raise ValueError(f"gradient_descent: x0 must be 1-D (d,), got shape {x0.shape}")
    if n_steps < 0:
        raise ValueError(f"gradient_descent: n_steps must be >= 0, got {n_steps}")
    path = np.empty((n_steps + 1, x0.size))
    path[0] = x0
    for n in range(n_steps):
        # grad_f gets a copy so a gradient that writes into its argument cannot alter
        # the recorded trajectory.
        path[n + 1] = path[n] - lr * np.asarray(grad_f(path[n].copy()), dtype=float)
    return path


# --- q2 -------------------------------------------------------------------------------

def max_stable_lr(A):
    """2 / lambda_max(A): GD on 0.5 x^T A x - b^T x converges iff 0 < lr < this value.

    Raises ValueError if A is not a finite square symmetric positive definite matrix.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.size == 0:
        raise ValueError(f"max_stable_lr: A must be a square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("max_stable_lr: A contains NaN or infinite entries")
    # Relative tolerance: entries computed as X^T X / m are symmetric only up to rounding.
    if np.max(np.abs(A - A.T)) > 1e-10 * np.max(np.abs(A)):
        raise ValueError("max_stable_lr: A is not symmetric")
    eigenvalues = np.linalg.eigvalsh(A)          # ascending
    if eigenvalues[0] <= 0:
        raise ValueError("max_stable_lr: A is not positive definite "
                         f"(smallest eigenvalue {eigenvalues[0]:.3g})")
    return float(2.0 / eigenvalues[-1])


# --- q3 -------------------------------------------------------------------------------

def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    """First n in 0..max_steps with ||grad_f(x_n)|| < tol along the GD iterates, else -1."""
    x = np.asarray(x0, dtype=float).copy()
    # A diverging run overflows to inf/nan; that is an expected outcome here (-1).
    with np.errstate(over="ignore", invalid="ignore"):
        for n in range(max_steps + 1):
            g = np.asarray(grad_f(x.copy()), dtype=float)
            if np.linalg.norm(g) < tol:
                return n
            if not np.all(np.isfinite(g)):
                return -1                    # inf/nan never comes back below tol
            x = x - lr * g
    return -1


# --- q4 -------------------------------------------------------------------------------

def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    """Minibatch SGD for least squares; returns the (n_updates + 1, d) trajectory.

    X: (m, d), y: (m,), w0: (d,). Each epoch draws rng.permutation(m) once and walks it
    in consecutive batches (the last may be smaller); the step on batch B uses the
    gradient (1/|B|) X_B^T (X_B w - y_B) of the batch loss (1/(2|B|)) ||X_B w - y_B||^2.
    Raises ValueError for inconsistent shapes, batch_size < 1 or epochs < 0.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w0, dtype=float).copy()
    if X.ndim != 2 or y.shape != (X.shape[0],) or w.shape != (X.shape[1],):
        raise ValueError(f"minibatch_sgd: expected X (m, d), y (m,), w0 (d,); got X {X.shape}, "
                         f"y {y.shape}, w0 {w.shape}")
    if batch_size < 1 or epochs < 0:
        raise ValueError(f"minibatch_sgd: need batch_size >= 1 and epochs >= 0, got "
                         f"{batch_size} and {epochs}")
    m = X.shape[0]
    path = [w.copy()]
    for _ in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            idx = order[start:start + batch_size]
            Xb, yb = X[idx], y[idx]
            w = w - lr * (Xb.T @ (Xb @ w - yb)) / len(idx)
            path.append(w.copy())
    return np.array(path).reshape(len(path), X.shape[1])
