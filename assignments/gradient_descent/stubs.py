# %% setup
import numpy as np

# A quadratic f(x) = 0.5 x^T A x - b^T x with an elongated bowl (eigenvalues {{ '%g' % v.eig[0] }} and {{ '%g' % v.eig[1] }}).
A_demo = np.array([{{ v.A[0] | py }},
                   {{ v.A[1] | py }}])
b_demo = np.array({{ v.b | py }})
# The starting point of the demo (and of the public checks).
x0_demo = np.array({{ v.x0 | py }})


def grad_demo(x):
    """Gradient of the quadratic above at x: (2,)."""
    return A_demo @ x - b_demo


# A least-squares problem y = X w_true + noise, one example per row.
rng = np.random.default_rng(0)
X_demo = rng.normal(size=(200, 3))
w_true = np.array({{ v.w_true | py }})
y_demo = X_demo @ w_true + 0.1 * rng.normal(size=200)

# %% q1
def gradient_descent(grad_f, x0, lr, n_steps):
    """Run n_steps of gradient descent x_{n+1} = x_n - lr * grad_f(x_n).

    grad_f: function (d,) -> (d,), the gradient of f.
    x0: (d,) starting point; lr: float learning rate; n_steps: int >= 0.
    Returns the trajectory as a float array (n_steps + 1, d): row n is x_n, row 0 is x0.
    Raises ValueError if x0 is not 1-D or n_steps < 0.
    """
    raise NotImplementedError

# %% q2
def max_stable_lr(A):
    """Largest learning rate bound for gradient descent on f(x) = 0.5 x^T A x - b^T x:
    the iterates converge for every x0 exactly when 0 < lr < max_stable_lr(A).

    A: (d, d) symmetric positive definite matrix.
    Returns a float. Raises ValueError if A is not square, not symmetric or not positive
    definite.
    """
    raise NotImplementedError

# %% q3
def steps_to_converge(grad_f, x0, lr, tol, max_steps):
    """Number of gradient-descent steps until the gradient is small.

    grad_f: function (d,) -> (d,); x0: (d,); lr: float; tol: float > 0; max_steps: int.
    With x_0 = x0 and x_{n+1} = x_n - lr * grad_f(x_n), returns the first n in
    0, 1, ..., max_steps with np.linalg.norm(grad_f(x_n)) < tol, or -1 if there is none
    (also when the iterates diverge).
    """
    raise NotImplementedError

# %% q4
def minibatch_sgd(X, y, w0, lr, batch_size, epochs, rng):
    """Minibatch stochastic gradient descent for least squares.

    X: (m, d), one example per row; y: (m,); w0: (d,); lr: float;
    batch_size: int >= 1; epochs: int >= 0; rng: np.random.Generator.
    Each epoch calls rng.permutation(m) exactly once and splits that order into
    consecutive batches of batch_size examples (the last batch may be smaller).
    Each batch B updates w with the gradient of its loss (1/(2B)) sum_i (x_i . w - y_i)^2,
    where B is the number of examples actually in the batch.
    Returns the trajectory (n_updates + 1, d): row 0 is w0, then w after every update.
    Raises ValueError for inconsistent shapes, batch_size < 1 or epochs < 0.
    """
    raise NotImplementedError
