"""Correct gradient_descent solutions written differently from the reference
(tests/test_diagnoses.py): each gets full marks and names no mistake. WITHOUT_VALIDATION has
correct mathematics and no input validation: it loses at most the validation points of those
questions (the issue: such code was told "The step adds lr * grad_f(x)", "The bound uses
lambda_min", "visited in their original order").
"""

SOLUTIONS = {
    # A growing list, eigvals of a symmetrized copy, a while loop with a hand-written norm,
    # np.array_split and a mean of per-example gradients.
    "lists-and-loops": {
        "q1": '''
def gradient_descent(grad_f, x0, lr, n_steps):
    if np.ndim(x0) != 1 or n_steps < 0:
        raise ValueError("x0 must be 1-D and n_steps >= 0")
    xs = [np.array(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * np.asarray(grad_f(xs[-1].copy())))
    return np.vstack(xs)
''',
        "q2": '''
def max_stable_lr(A):
    A = np.array(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("A must be square")
    if not np.allclose(A, A.T):
        raise ValueError("A must be symmetric")
    lam = np.linalg.eigvals((A + A.T) / 2).real
    if lam.min() <= 0:
        raise ValueError("A must be positive definite")
    return 2 / lam.max()
''',
        "q3": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    x, n = np.array(x0, dtype=float), 0
    while n <= max_steps:
        g = grad_f(x)
        norm = np.sqrt(np.sum(g * g))
        if norm < tol:
            return n
        if not np.isfinite(norm):
            return -1
        x, n = x - lr * g, n + 1
    return -1
''',
        "q4": '''
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    m, d = X.shape
    if y.shape != (m,) or np.shape(w0) != (d,) or batch_size < 1 or epochs < 0:
        raise ValueError("bad arguments")
    w = np.array(w0, dtype=float)
    history = [w.copy()]
    for _ in range(epochs):
        order = rng.permutation(m)
        for batch in np.array_split(order, np.arange(batch_size, m, batch_size)):
            residual = X[batch] @ w - y[batch]
            w = w - lr * np.mean(X[batch] * residual[:, None], axis=0)
            history.append(w.copy())
    return np.array(history)
''',
    },
    # Later questions built on earlier functions, numpy scalars: a preallocated trajectory,
    # the bound from a Cholesky test and eigvalsh as np.float64, steps_to_converge running
    # gradient_descent over the whole budget, per-example gradients summed in a loop.
    "reuses-gradient-descent": {
        "q1": '''
def gradient_descent(grad_f, x0, lr, n_steps):
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be 1-D, got shape {x0.shape}")
    if n_steps < 0:
        raise ValueError("n_steps must be >= 0")
    path = np.zeros((n_steps + 1, len(x0)))
    path[0] = x0
    for n in range(1, n_steps + 1):
        path[n] = path[n - 1] - lr * grad_f(path[n - 1].copy())
    return path
''',
        "q2": '''
def max_stable_lr(A):
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError("A must be a square matrix")
    if not np.allclose(A, A.T, rtol=1e-9, atol=0.0):
        raise ValueError("A must be symmetric")
    np.linalg.cholesky(A)  # LinAlgError (a ValueError) unless positive definite
    return 2.0 / np.linalg.eigvalsh(A).max()
''',
        "q3": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    path = gradient_descent(grad_f, x0, lr, max_steps)
    for n, x in enumerate(path):
        if np.linalg.norm(grad_f(x)) < tol:
            return n
    return -1
''',
        "q4": '''
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    X, y, w = np.asarray(X, float), np.asarray(y, float), np.array(w0, dtype=float)
    if X.ndim != 2 or len(y) != len(X) or y.ndim != 1 or w.shape != (X.shape[1],):
        raise ValueError("shapes of X, y, w0 do not match")
    if batch_size < 1 or epochs < 0:
        raise ValueError("batch_size >= 1 and epochs >= 0")
    path = [w.copy()]
    m = len(y)
    for epoch in range(epochs):
        order = rng.permutation(m)
        for start in range(0, m, batch_size):
            batch = order[start:start + batch_size]
            grad = np.zeros_like(w)
            for i in batch:
                grad += (X[i] @ w - y[i]) * X[i]
            w = w - lr * grad / len(batch)
            path.append(w.copy())
    return np.stack(path)
''',
    },
    # steps_to_converge taking gradient_descent one step at a time, with an integer count
    # returned as a numpy integer.
    "one-step-at-a-time": {
        "q3": '''
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    x = np.asarray(x0, dtype=float)
    for n in range(max_steps + 1):
        g = grad_f(x)
        if np.linalg.norm(g) < tol:
            return np.int64(n)
        if not np.all(np.isfinite(g)):
            break
        x = gradient_descent(grad_f, x, lr, 1)[-1]
    return np.int64(-1)
''',
    },
}

WITHOUT_VALIDATION = {
    "no-validation": {
        "q1": '''
def gradient_descent(grad_f, x0, lr, n_steps):
    xs = [np.asarray(x0, dtype=float)]
    for _ in range(n_steps):
        xs.append(xs[-1] - lr * np.asarray(grad_f(xs[-1].copy()), dtype=float))
    return np.array(xs).reshape(len(xs), -1)
''',
        "q2": '''
def max_stable_lr(A):
    return float(2.0 / np.linalg.eigvalsh(np.asarray(A, dtype=float))[-1])
''',
        "q4": '''
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    w = np.asarray(w0, dtype=float)
    path = [w]
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            w = w - lr * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
            path.append(w)
    return np.array(path).reshape(len(path), -1)
''',
    },
}
