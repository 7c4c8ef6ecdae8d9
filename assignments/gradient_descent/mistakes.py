"""Known wrong variants of the gradient_descent API, used by the judge to name
misconceptions. Each is a complete, self-contained replacement of one API function (the tests
paste its source alone into a notebook cell): the reference with one mistake. Each keeps the
reference's input validation (ValueError), so the validation checks are never a variant's
evidence: a submission that forgets the validation is not mistaken for a variant there, and
one that validates and makes the mistake is still named."""
import numpy as np


def gradient_descent__ascent(grad_f, x0, lr, n_steps):
    if np.ndim(x0) != 1 or n_steps < 0:
        raise ValueError("x0 must be 1-D and n_steps >= 0")
    path = [np.asarray(x0, dtype=float)]
    for _ in range(n_steps):
        path.append(path[-1] + lr * np.asarray(grad_f(path[-1]), dtype=float))
    return np.array(path)


def gradient_descent__no_initial_row(grad_f, x0, lr, n_steps):
    # Records x_1..x_n only: n_steps rows instead of n_steps + 1.
    if np.ndim(x0) != 1 or n_steps < 0:
        raise ValueError("x0 must be 1-D and n_steps >= 0")
    x, path = np.asarray(x0, dtype=float), []
    for _ in range(n_steps):
        x = x - lr * np.asarray(grad_f(x), dtype=float)
        path.append(x)
    return np.array(path).reshape(n_steps, x.size)


def max_stable_lr__lambda_min(A):
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.size == 0 or not np.all(np.isfinite(A)):
        raise ValueError("A must be a finite square matrix")
    if np.max(np.abs(A - A.T)) > 1e-10 * np.max(np.abs(A)):
        raise ValueError("A is not symmetric")
    eigenvalues = np.linalg.eigvalsh(A)
    if eigenvalues[0] <= 0:
        raise ValueError("A is not positive definite")
    return float(2.0 / eigenvalues[0])


def max_stable_lr__no_factor_2(A):
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.size == 0 or not np.all(np.isfinite(A)):
        raise ValueError("A must be a finite square matrix")
    if np.max(np.abs(A - A.T)) > 1e-10 * np.max(np.abs(A)):
        raise ValueError("A is not symmetric")
    eigenvalues = np.linalg.eigvalsh(A)
    if eigenvalues[0] <= 0:
        raise ValueError("A is not positive definite")
    return float(1.0 / eigenvalues[-1])


def steps_to_converge__off_by_one(grad_f, x0, lr, tol, max_steps):
    # Counts iterations from 1, so the answer for x_n is n + 1 (and x0 itself is never 0).
    x = np.asarray(x0, dtype=float)
    for n in range(1, max_steps + 2):
        g = np.asarray(grad_f(x), dtype=float)
        if np.linalg.norm(g) < tol:
            return n
        x = x - lr * g
    return -1


def steps_to_converge__step_size(grad_f, x0, lr, tol, max_steps):
    # Stops when the step lr * ||grad|| is small, not the gradient itself.
    x = np.asarray(x0, dtype=float)
    for n in range(max_steps + 1):
        g = np.asarray(grad_f(x), dtype=float)
        if lr * np.linalg.norm(g) < tol:
            return n
        x = x - lr * g
    return -1


def minibatch_sgd__no_shuffle(X, y, w0, lr, batch_size, epochs, rng):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or np.shape(w0) != (X.shape[1],) \
            or batch_size < 1 or epochs < 0:
        raise ValueError("inconsistent shapes, batch_size < 1 or epochs < 0")
    w, path = np.asarray(w0, dtype=float), [np.asarray(w0, dtype=float)]
    for _ in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            w = w - lr * Xb.T @ (Xb @ w - yb) / len(yb)
            path.append(w)
    return np.array(path)


def minibatch_sgd__shuffle_once(X, y, w0, lr, batch_size, epochs, rng):
    # One permutation before the first epoch, reused for every epoch.
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or np.shape(w0) != (X.shape[1],) \
            or batch_size < 1 or epochs < 0:
        raise ValueError("inconsistent shapes, batch_size < 1 or epochs < 0")
    order = rng.permutation(X.shape[0])
    w, path = np.asarray(w0, dtype=float), [np.asarray(w0, dtype=float)]
    for _ in range(epochs):
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            w = w - lr * X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)
            path.append(w)
    return np.array(path)


def minibatch_sgd__gradient_sum(X, y, w0, lr, batch_size, epochs, rng):
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or np.shape(w0) != (X.shape[1],) \
            or batch_size < 1 or epochs < 0:
        raise ValueError("inconsistent shapes, batch_size < 1 or epochs < 0")
    w, path = np.asarray(w0, dtype=float), [np.asarray(w0, dtype=float)]
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            w = w - lr * X[idx].T @ (X[idx] @ w - y[idx])
            path.append(w)
    return np.array(path)


def minibatch_sgd__nominal_batch_size(X, y, w0, lr, batch_size, epochs, rng):
    # Divides by batch_size also for the smaller last batch.
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],) or np.shape(w0) != (X.shape[1],) \
            or batch_size < 1 or epochs < 0:
        raise ValueError("inconsistent shapes, batch_size < 1 or epochs < 0")
    w, path = np.asarray(w0, dtype=float), [np.asarray(w0, dtype=float)]
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start:start + batch_size]
            w = w - lr * X[idx].T @ (X[idx] @ w - y[idx]) / batch_size
            path.append(w)
    return np.array(path)


MISTAKES = [
    {"id": "gd-ascent", "function": "gradient_descent", "variant": gradient_descent__ascent,
     "message": {
         "en": "The step adds lr * grad_f(x): that climbs the function. Gradient descent "
               "subtracts it, x_{n+1} = x_n - lr * grad_f(x_n).",
         "es": "El paso suma lr * grad_f(x): eso sube por la función. El descenso por "
               "gradiente lo resta, x_{n+1} = x_n - lr * grad_f(x_n).",
         "pt": "O passo soma lr * grad_f(x): isso sobe pela função. A descida do gradiente o "
               "subtrai, x_{n+1} = x_n - lr * grad_f(x_n)."}},
    {"id": "gd-no-initial-row", "function": "gradient_descent",
     "variant": gradient_descent__no_initial_row,
     "message": {
         "en": "The trajectory has n_steps rows: row 0 must be x0, followed by the n_steps "
               "iterates, n_steps + 1 rows in total.",
         "es": "La trayectoria tiene n_steps filas: la fila 0 debe ser x0, seguida de los "
               "n_steps iterados, n_steps + 1 filas en total.",
         "pt": "A trajetória tem n_steps linhas: a linha 0 deve ser x0, seguida dos n_steps "
               "iterados, n_steps + 1 linhas no total."}},
    {"id": "lr-lambda-min", "function": "max_stable_lr", "variant": max_stable_lr__lambda_min,
     "message": {
         "en": "The bound uses lambda_min: every eigen-direction must satisfy |1 - lr*lambda| "
               "< 1, and the binding one is the largest eigenvalue, so lr < 2/lambda_max.",
         "es": "La cota usa lambda_min: cada autodirección debe cumplir |1 - lr*lambda| < 1, "
               "y la que limita es la del mayor autovalor, así que lr < 2/lambda_max.",
         "pt": "A cota usa lambda_min: cada autodireção precisa satisfazer |1 - lr*lambda| < 1, "
               "e a que limita é a do maior autovalor, então lr < 2/lambda_max."}},
    {"id": "lr-no-factor-2", "function": "max_stable_lr", "variant": max_stable_lr__no_factor_2,
     "message": {
         "en": "The result is 1/lambda_max, the fastest step along the stiffest direction; "
               "the stability limit from |1 - lr*lambda_max| < 1 is 2/lambda_max.",
         "es": "El resultado es 1/lambda_max, el paso más rápido en la dirección más rígida; "
               "el límite de estabilidad, que sale de |1 - lr*lambda_max| < 1, es "
               "2/lambda_max.",
         "pt": "O resultado é 1/lambda_max, o passo mais rápido na direção mais rígida; o "
               "limite de estabilidade, que vem de |1 - lr*lambda_max| < 1, é 2/lambda_max."}},
    {"id": "steps-off-by-one", "function": "steps_to_converge",
     "variant": steps_to_converge__off_by_one,
     "message": {
         "en": "The count is one too high: x0 is step 0, so if the gradient at x0 is already "
               "below tol the answer is 0.",
         "es": "La cuenta da uno de más: x0 es el paso 0, así que si el gradiente en x0 ya es "
               "menor que tol la respuesta es 0.",
         "pt": "A contagem dá um a mais: x0 é o passo 0, então, se o gradiente em x0 já for "
               "menor que tol, a resposta é 0."}},
    {"id": "steps-step-size-criterion", "function": "steps_to_converge",
     "variant": steps_to_converge__step_size,
     "message": {
         "en": "The test compares the step length lr*||grad|| with tol; the criterion is the "
               "gradient norm ||grad f(x_n)|| < tol.",
         "es": "La prueba compara la longitud del paso lr*||grad|| con tol; el criterio es la "
               "norma del gradiente, ||grad f(x_n)|| < tol.",
         "pt": "O teste compara o tamanho do passo lr*||grad|| com tol; o critério é a norma "
               "do gradiente, ||grad f(x_n)|| < tol."}},
    {"id": "sgd-no-shuffle", "function": "minibatch_sgd", "variant": minibatch_sgd__no_shuffle,
     "message": {
         "en": "The examples are visited in their original order: each epoch must draw "
               "rng.permutation(m) and take the batches from that permutation.",
         "es": "Los ejemplos se recorren en su orden original: en cada época hay que sortear "
               "rng.permutation(m) y tomar los lotes de esa permutación.",
         "pt": "Os exemplos são percorridos na ordem original: a cada época é preciso sortear "
               "rng.permutation(m) e tirar os lotes dessa permutação."}},
    {"id": "sgd-shuffle-once", "function": "minibatch_sgd",
     "variant": minibatch_sgd__shuffle_once,
     "message": {
         "en": "The permutation is drawn once and reused: draw a new rng.permutation(m) at the "
               "start of every epoch.",
         "es": "La permutación se sortea una sola vez y se reutiliza: hay que sortear una "
               "nueva rng.permutation(m) al comienzo de cada época.",
         "pt": "A permutação é sorteada uma única vez e reaproveitada: sorteie uma nova "
               "rng.permutation(m) no início de cada época."}},
    {"id": "sgd-gradient-sum", "function": "minibatch_sgd",
     "variant": minibatch_sgd__gradient_sum,
     "message": {
         "en": "The batch gradient lacks the 1/B factor: X_B^T (X_B w - y_B) is summed over "
               "the batch instead of averaged, so the step grows with the batch size.",
         "es": "Al gradiente del lote le falta el factor 1/B: X_B^T (X_B w - y_B) se suma "
               "sobre el lote en lugar de promediarse, y el paso crece con el tamaño del lote.",
         "pt": "Falta o fator 1/B no gradiente do lote: X_B^T (X_B w - y_B) é somado sobre o "
               "lote em vez de ser calculado como média, e o passo cresce com o tamanho do "
               "lote."}},
    {"id": "sgd-nominal-batch-size", "function": "minibatch_sgd",
     "variant": minibatch_sgd__nominal_batch_size,
     "message": {
         "en": "The last, smaller batch is divided by batch_size: B is the actual number of "
               "examples in the batch.",
         "es": "El último lote, más pequeño, se divide por batch_size: B es la cantidad real de "
               "ejemplos del lote.",
         "pt": "O último lote, menor, é dividido por batch_size: B é o número real de "
               "exemplos no lote."}},
]
