"""Known wrong variants of the glorot API, used by the judge to name misconceptions.

Each variant is the reference with one mistake: it keeps the reference's input validation
(ValueError), so a submission that forgets the validation is never mistaken for a variant on
the ValueError checks. Random variants make exactly one draw call, like the reference, so the
judge can replay them with the probe's seed and compare bit for bit.
"""
import numpy as np


def preactivation_variance__no_fan_in(n_in, var_w, var_x):
    # Variance of a single product w_i x_i: the sum over n_in terms is forgotten.
    return var_w * var_x


def glorot_variance__lecun(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return 1.0 / n_in


def glorot_variance__no_factor_2(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return 1.0 / (n_in + n_out)


def glorot_uniform_limit__variance_as_limit(n_in, n_out):
    # The normal's standard deviation used as the uniform's half-width.
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return float(np.sqrt(2.0 / (n_in + n_out)))


def glorot_uniform_limit__two_variances(n_in, n_out):
    # a^2 = 2 Var: the variance of U(-a, a) taken as a^2/2 instead of a^2/3.
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return float(np.sqrt(2.0 * (2.0 / (n_in + n_out))))


def glorot_uniform_limit__no_sqrt(n_in, n_out):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return 6.0 / (n_in + n_out)


def glorot_uniform__not_centered(n_in, n_out, rng):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(0.0, limit, size=(n_in, n_out))


def glorot_uniform__transposed(n_in, n_out, rng):
    # torch.nn.Linear stores weights as (out, in); here W is (in, out).
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def glorot_normal__variance_as_scale(n_in, n_out, rng):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return rng.normal(0.0, 2.0 / (n_in + n_out), size=(n_in, n_out))


def glorot_normal__uniform_limit_as_std(n_in, n_out, rng):
    if n_in < 1 or n_out < 1:
        raise ValueError("n_in and n_out must be >= 1")
    return rng.normal(0.0, np.sqrt(6.0 / (n_in + n_out)), size=(n_in, n_out))


def activation_variances__include_input(init, n_layers, width, X, rng):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or n_layers < 1:
        raise ValueError("X must be 2-D and n_layers >= 1")
    A = np.asarray(X, dtype=float)
    variances = [float(np.var(A))]
    for _ in range(n_layers):
        A = np.tanh(init(A.shape[0], width, rng).T @ A)
        variances.append(float(np.var(A)))
    return variances


def activation_variances__preactivation(init, n_layers, width, X, rng):
    # Records Var(Z_l) instead of Var(A_l) = Var(tanh(Z_l)).
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or n_layers < 1:
        raise ValueError("X must be 2-D and n_layers >= 1")
    A = np.asarray(X, dtype=float)
    variances = []
    for _ in range(n_layers):
        Z = init(A.shape[0], width, rng).T @ A
        variances.append(float(np.var(Z)))
        A = np.tanh(Z)
    return variances


MISTAKES = [
    {"id": "preact-no-fan-in", "function": "preactivation_variance",
     "variant": preactivation_variance__no_fan_in,
     "message": {
         "en": "The factor n_in is missing: z is a sum of n_in independent terms w_i x_i, so "
               "their variances add up to n_in Var(w) Var(x).",
         "es": "Falta el factor n_in: z es una suma de n_in términos independientes w_i x_i, "
               "así que sus varianzas se suman y dan n_in Var(w) Var(x).",
         "pt": "Falta o fator n_in: z é uma soma de n_in termos independentes w_i x_i, então "
               "as variâncias se somam e dão n_in Var(w) Var(x)."}},
    {"id": "variance-lecun", "function": "glorot_variance", "variant": glorot_variance__lecun,
     "message": {
         "en": "This is LeCun's 1/n_in, which only keeps the forward variance: Glorot "
               "compromises between forward (n_in) and backward (n_out) and uses "
               "2/(n_in + n_out).",
         "es": "Esto es 1/n_in de LeCun, que solo conserva la varianza hacia adelante: Glorot "
               "busca un compromiso entre la pasada hacia adelante (n_in) y hacia atrás "
               "(n_out) y usa 2/(n_in + n_out).",
         "pt": "Isto é o 1/n_in de LeCun, que só preserva a variância na propagação direta: "
               "Glorot busca um meio-termo entre a direta (n_in) e a reversa (n_out) e usa "
               "2/(n_in + n_out)."}},
    {"id": "variance-no-factor-2", "function": "glorot_variance",
     "variant": glorot_variance__no_factor_2,
     "message": {
         "en": "The factor 2 is missing: Glorot's variance is 1 over the average fan "
               "(n_in + n_out)/2, that is 2/(n_in + n_out).",
         "es": "Falta el factor 2: la varianza de Glorot es 1 sobre el fan promedio "
               "(n_in + n_out)/2, es decir 2/(n_in + n_out).",
         "pt": "Falta o fator 2: a variância de Glorot é 1 sobre o fan médio "
               "(n_in + n_out)/2, ou seja, 2/(n_in + n_out)."}},
    {"id": "uniform-limit-is-std", "function": "glorot_uniform_limit",
     "variant": glorot_uniform_limit__variance_as_limit,
     "message": {
         "en": "The limit is the normal's standard deviation sqrt(2/(n_in + n_out)); U(-a, a) "
               "has variance a^2/3, so a = sqrt(6/(n_in + n_out)).",
         "es": "El límite es la desviación estándar de la normal, sqrt(2/(n_in + n_out)); "
               "U(-a, a) tiene varianza a^2/3, así que a = sqrt(6/(n_in + n_out)).",
         "pt": "O limite é o desvio padrão da normal, sqrt(2/(n_in + n_out)); U(-a, a) tem "
               "variância a^2/3, então a = sqrt(6/(n_in + n_out))."}},
    {"id": "uniform-limit-sqrt-2var", "function": "glorot_uniform_limit",
     "variant": glorot_uniform_limit__two_variances,
     "message": {
         "en": "The limit is sqrt(2 * Var) = sqrt(4/(n_in + n_out)); U(-a, a) has variance "
               "a^2/3, not a^2/2, so a = sqrt(3 * Var) = sqrt(6/(n_in + n_out)).",
         "es": "El límite es sqrt(2 * Var) = sqrt(4/(n_in + n_out)); U(-a, a) tiene varianza "
               "a^2/3, no a^2/2, así que a = sqrt(3 * Var) = sqrt(6/(n_in + n_out)).",
         "pt": "O limite é sqrt(2 * Var) = sqrt(4/(n_in + n_out)); U(-a, a) tem variância "
               "a^2/3, e não a^2/2, então a = sqrt(3 * Var) = sqrt(6/(n_in + n_out))."}},
    {"id": "uniform-limit-no-sqrt", "function": "glorot_uniform_limit",
     "variant": glorot_uniform_limit__no_sqrt,
     "message": {
         "en": "The square root is missing: 6/(n_in + n_out) is a^2, not the limit a.",
         "es": "Falta la raíz cuadrada: 6/(n_in + n_out) es a^2, no el límite a.",
         "pt": "Falta a raiz quadrada: 6/(n_in + n_out) é a^2, e não o limite a."}},
    {"id": "uniform-not-centered", "function": "glorot_uniform",
     "variant": glorot_uniform__not_centered,
     "message": {
         "en": "The weights are drawn from U(0, a): they are biased (mean a/2) and have the "
               "wrong variance; draw from U(-a, a).",
         "es": "Los pesos se sortean de U(0, a): quedan sesgados (media a/2) y con la varianza "
               "equivocada; hay que sortearlos de U(-a, a).",
         "pt": "Os pesos são sorteados de U(0, a): ficam enviesados (média a/2) e com a "
               "variância errada; sorteie de U(-a, a)."}},
    {"id": "uniform-transposed", "function": "glorot_uniform",
     "variant": glorot_uniform__transposed,
     "message": {
         "en": "The matrix is (n_out, n_in), as in torch.nn.Linear; here Z = W^T X, so W must "
               "be (n_in, n_out).",
         "es": "La matriz es (n_out, n_in), como en torch.nn.Linear; aquí Z = W^T X, así que W "
               "debe ser (n_in, n_out).",
         "pt": "A matriz é (n_out, n_in), como em torch.nn.Linear; aqui Z = W^T X, então W "
               "deve ser (n_in, n_out)."}},
    {"id": "normal-variance-as-scale", "function": "glorot_normal",
     "variant": glorot_normal__variance_as_scale,
     "message": {
         "en": "rng.normal's scale is the standard deviation, but it received the variance "
               "2/(n_in + n_out); pass its square root.",
         "es": "El scale de rng.normal es la desviación estándar, pero recibió la varianza "
               "2/(n_in + n_out); hay que pasarle su raíz cuadrada.",
         "pt": "O scale de rng.normal é o desvio padrão, mas recebeu a variância "
               "2/(n_in + n_out); passe a raiz quadrada dela."}},
    {"id": "normal-uses-uniform-limit", "function": "glorot_normal",
     "variant": glorot_normal__uniform_limit_as_std,
     "message": {
         "en": "The standard deviation is the uniform limit sqrt(6/(n_in + n_out)), which "
               "triples the variance; the normal version uses sqrt(2/(n_in + n_out)).",
         "es": "La desviación estándar es el límite de la uniforme, sqrt(6/(n_in + n_out)), "
               "lo que triplica la varianza; la versión normal usa sqrt(2/(n_in + n_out)).",
         "pt": "O desvio padrão é o limite da uniforme, sqrt(6/(n_in + n_out)), o que triplica "
               "a variância; a versão normal usa sqrt(2/(n_in + n_out))."}},
    {"id": "activations-include-input", "function": "activation_variances",
     "variant": activation_variances__include_input,
     "message": {
         "en": "The list starts with Var(X): it must hold one value per layer, "
               "Var(A_1), ..., Var(A_L), so it has n_layers entries.",
         "es": "La lista empieza con Var(X): debe tener un valor por capa, "
               "Var(A_1), ..., Var(A_L), es decir n_layers elementos.",
         "pt": "A lista começa com Var(X): ela deve ter um valor por camada, "
               "Var(A_1), ..., Var(A_L), ou seja, n_layers elementos."}},
    {"id": "activations-preactivation", "function": "activation_variances",
     "variant": activation_variances__preactivation,
     "message": {
         "en": "The variances are of the pre-activations Z_l; the question asks for the "
               "activations A_l = tanh(Z_l).",
         "es": "Las varianzas son de las preactivaciones Z_l; la pregunta pide las de las "
               "activaciones A_l = tanh(Z_l).",
         "pt": "As variâncias são das pré-ativações Z_l; a questão pede as das ativações "
               "A_l = tanh(Z_l)."}},
]
