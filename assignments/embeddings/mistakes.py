"""Known wrong variants of the embeddings API, used by the judge to name misconceptions.

Each variant has the signature of the function it replaces and is self-contained (numpy
only, no helper, no call to another API function), so the judge can run it, or paste its
source, on the same probe inputs as the student's code. Error handling is trimmed: a
variant only needs to be wrong, on valid inputs, in the way its message describes (so the
words it excludes are never returned, also when k is beyond the words left).
"""
import numpy as np


def one_hot__transposed(words, vocab):
    # One column per word instead of one row: (len(vocab), len(words)).
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    out = np.zeros((len(vocab), len(words)))
    for r, w in enumerate(words):
        out[index[w], r] = 1.0
    return out


def cosine_similarity__dot(a, b):
    # The dot product without dividing by the norms.
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim == 1 and b.ndim == 1:
        return float(a @ b)
    return np.atleast_2d(a) @ np.atleast_2d(b).T


def cosine_similarity__wrong_axis(a, b):
    # Normalizes each column (feature) of the matrices instead of each row (vector).
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    A, B = np.atleast_2d(a), np.atleast_2d(b)
    na = np.linalg.norm(A, axis=0, keepdims=True)
    nb = np.linalg.norm(B, axis=0, keepdims=True)
    na[na == 0] = 1.0
    nb[nb == 0] = 1.0
    S = (A / na) @ (B / nb).T
    return float(S[0, 0]) if a.ndim == 1 and b.ndim == 1 else S


def most_similar__dot(E, vocab, query, k=5, exclude=()):
    # Ranks by raw dot product: long (frequent, generic) vectors win.
    E = np.asarray(E, dtype=float)
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    q = E[index[query]] if isinstance(query, str) else np.asarray(query, dtype=float)
    scores = E @ q
    skip = ([query] if isinstance(query, str) else []) + list(exclude)
    scores[[index[w] for w in skip]] = -np.inf
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]


def most_similar__keeps_query(E, vocab, query, k=5, exclude=()):
    # Correct cosine, but a word query is not removed, so it comes back first (score 1).
    E = np.asarray(E, dtype=float)
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    q = E[index[query]] if isinstance(query, str) else np.asarray(query, dtype=float)
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    scores = (E @ q) / norms / (np.linalg.norm(q) or 1.0)
    scores[[index[w] for w in exclude]] = -np.inf
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]


def analogy__no_normalize(E, vocab, a, b, c, k=1):
    # b - a + c on the raw vectors: the longest of the three dominates the query.
    E = np.asarray(E, dtype=float)
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    ia, ib, ic = index[a], index[b], index[c]
    q = E[ib] - E[ia] + E[ic]
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    scores = (E @ q) / norms / (np.linalg.norm(q) or 1.0)
    scores[[ia, ib, ic]] = -np.inf
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]


def analogy__sign(E, vocab, a, b, c, k=1):
    # a - b + c: the offset points the wrong way (man - king + woman).
    E = np.asarray(E, dtype=float)
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    ia, ib, ic = index[a], index[b], index[c]
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    q = E[ia] / norms[ia] - E[ib] / norms[ib] + E[ic] / norms[ic]
    scores = (E @ q) / norms / (np.linalg.norm(q) or 1.0)
    scores[[ia, ib, ic]] = -np.inf
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] > -np.inf][:k]
    return [(vocab[i], float(scores[i])) for i in order]


def analogy__no_exclude(E, vocab, a, b, c, k=1):
    # The question words stay candidates, and b or c is usually the closest to b - a + c.
    E = np.asarray(E, dtype=float)
    index = {w: i for i, w in reversed(list(enumerate(vocab)))}
    ia, ib, ic = index[a], index[b], index[c]
    norms = np.linalg.norm(E, axis=1)
    norms[norms == 0] = 1.0
    q = E[ib] / norms[ib] - E[ia] / norms[ia] + E[ic] / norms[ic]
    scores = (E @ q) / norms / (np.linalg.norm(q) or 1.0)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(vocab[i], float(scores[i])) for i in order]


def analogy_accuracy__keeps_question_words(E, vocab, questions, restrict_vocab=30000):
    # The three question words are not masked before taking the best candidate.
    if isinstance(questions, str) or hasattr(questions, "__fspath__"):
        with open(questions, encoding="utf-8") as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]
    R = len(vocab) if restrict_vocab is None else min(int(restrict_vocab), len(vocab))
    ok = {str(vocab[i]).upper(): i for i in range(R - 1, -1, -1)}
    rows = [[ok[w.upper()] for w in q] for q in questions if all(w.upper() in ok for w in q)]
    if not rows:
        return 0.0, 0
    Q = np.array(rows, dtype=np.intp)
    En = np.asarray(E[:R], dtype=np.float32)
    En = En / np.maximum(np.linalg.norm(En, axis=1, keepdims=True), 1e-30)
    queries = En[Q[:, 1]] - En[Q[:, 0]] + En[Q[:, 2]]
    pred = np.concatenate([(queries[s:s + 256] @ En.T).argmax(axis=1)
                           for s in range(0, len(Q), 256)])
    return float(np.mean(pred == Q[:, 3])), int(len(Q))


def analogy_accuracy__case_sensitive(E, vocab, questions, restrict_vocab=30000):
    # "Athens Greece ..." never matches GloVe's lower-case "athens": those questions vanish.
    if isinstance(questions, str) or hasattr(questions, "__fspath__"):
        with open(questions, encoding="utf-8") as fh:
            questions = [line.split() for line in fh if not line.startswith(":")]
        questions = [q for q in questions if len(q) == 4]
    R = len(vocab) if restrict_vocab is None else min(int(restrict_vocab), len(vocab))
    ok = {str(vocab[i]): i for i in range(R - 1, -1, -1)}
    rows = [[ok[w] for w in q] for q in questions if all(w in ok for w in q)]
    if not rows:
        return 0.0, 0
    Q = np.array(rows, dtype=np.intp)
    En = np.asarray(E[:R], dtype=np.float32)
    En = En / np.maximum(np.linalg.norm(En, axis=1, keepdims=True), 1e-30)
    queries = En[Q[:, 1]] - En[Q[:, 0]] + En[Q[:, 2]]
    pred = np.empty(len(Q), dtype=np.intp)
    for s in range(0, len(Q), 256):
        S = queries[s:s + 256] @ En.T
        S[np.arange(len(S))[:, None], Q[s:s + 256, :3]] = -np.inf
        pred[s:s + 256] = S.argmax(axis=1)
    return float(np.mean(pred == Q[:, 3])), int(len(Q))


MISTAKES = [
    {"id": "one-hot-transposed", "function": "one_hot", "variant": one_hot__transposed,
     "message": {
         "en": "one_hot returns (len(vocab), len(words)): each word must be a row, so the "
               "shape is (len(words), len(vocab)) and one_hot(words, vocab) @ E gives their "
               "vectors.",
         "es": "one_hot devuelve (len(vocab), len(words)): cada palabra debe ser una fila, así "
               "que la forma es (len(words), len(vocab)) y one_hot(words, vocab) @ E da sus "
               "vectores.",
         "pt": "one_hot devolve (len(vocab), len(words)): cada palavra deve ser uma linha, "
               "então a forma é (len(words), len(vocab)) e one_hot(words, vocab) @ E dá os "
               "seus vetores."}},
    {"id": "cosine-dot", "function": "cosine_similarity", "variant": cosine_similarity__dot,
     "message": {
         "en": "cosine_similarity returns the plain dot product: divide by both norms, "
               "u.v / (|u| |v|), so the result lies in [-1, 1].",
         "es": "cosine_similarity devuelve el producto punto sin más: hay que dividir por "
               "ambas normas, u.v / (|u| |v|), para que el resultado quede en [-1, 1].",
         "pt": "cosine_similarity devolve o produto escalar puro: é preciso dividir pelas "
               "duas normas, u.v / (|u| |v|), para que o resultado fique em [-1, 1]."}},
    {"id": "cosine-wrong-axis", "function": "cosine_similarity",
     "variant": cosine_similarity__wrong_axis,
     "message": {
         "en": "The norms are taken over the wrong axis: each row is a vector, so normalize "
               "with np.linalg.norm(A, axis=1, keepdims=True), not axis=0.",
         "es": "Las normas se calculan sobre el eje equivocado: cada fila es un vector, así "
               "que normaliza con np.linalg.norm(A, axis=1, keepdims=True), no con axis=0.",
         "pt": "As normas são calculadas no eixo errado: cada linha é um vetor, então "
               "normalize com np.linalg.norm(A, axis=1, keepdims=True), e não com axis=0."}},
    {"id": "most-similar-dot", "function": "most_similar", "variant": most_similar__dot,
     "message": {
         "en": "most_similar ranks by dot product: long vectors (frequent words) win. Rank by "
               "cosine similarity, i.e. divide by the norms.",
         "es": "most_similar ordena por producto punto: ganan los vectores largos (palabras "
               "frecuentes). Ordena por similitud coseno, es decir, divide por las normas.",
         "pt": "most_similar ordena pelo produto escalar: vencem os vetores longos (palavras "
               "frequentes). Ordene pela similaridade de cosseno, ou seja, divida pelas "
               "normas."}},
    {"id": "most-similar-keeps-query", "function": "most_similar",
     "variant": most_similar__keeps_query,
     "message": {
         "en": "When the query is a word, that word is returned first with score 1: exclude "
               "it from the results.",
         "es": "Cuando la consulta es una palabra, esa misma palabra sale primera con puntaje "
               "1: exclúyela de los resultados.",
         "pt": "Quando a consulta é uma palavra, essa mesma palavra aparece em primeiro com "
               "pontuação 1: exclua-a dos resultados."}},
    {"id": "analogy-no-normalize", "function": "analogy", "variant": analogy__no_normalize,
     "message": {
         "en": "b - a + c is computed on the raw vectors: scale each vector to unit length "
               "first, otherwise the longest one dominates the query.",
         "es": "b - a + c se calcula con los vectores sin normalizar: lleva cada vector a "
               "norma 1 antes, si no el más largo domina la consulta.",
         "pt": "b - a + c é calculado com os vetores sem normalizar: leve cada vetor a "
               "norma 1 antes, senão o mais longo domina a consulta."}},
    {"id": "analogy-sign", "function": "analogy", "variant": analogy__sign,
     "message": {
         "en": "The offset has the wrong sign (a - b + c): 'a is to b as c is to ?' is "
               "b - a + c, e.g. king - man + woman.",
         "es": "El desplazamiento tiene el signo cambiado (a - b + c): 'a es a b como c es "
               "a ?' es b - a + c, p. ej. king - man + woman.",
         "pt": "O deslocamento está com o sinal trocado (a - b + c): 'a está para b assim "
               "como c está para ?' é b - a + c, p. ex. king - man + woman."}},
    {"id": "analogy-no-exclude", "function": "analogy", "variant": analogy__no_exclude,
     "message": {
         "en": "The question words a, b and c are not excluded, so the answer is usually b or "
               "c itself: remove them from the candidates.",
         "es": "No se excluyen las palabras de la pregunta a, b y c, así que la respuesta "
               "suele ser b o c: quítalas de los candidatos.",
         "pt": "As palavras da pergunta a, b e c não são excluídas, então a resposta "
               "costuma ser b ou c: remova-as dos candidatos."}},
    {"id": "accuracy-keeps-question-words", "function": "analogy_accuracy",
     "variant": analogy_accuracy__keeps_question_words,
     "message": {
         "en": "analogy_accuracy lets a, b and c be answers, so accuracy collapses: exclude "
               "the three question words before taking the best candidate.",
         "es": "analogy_accuracy permite que a, b y c sean respuestas y la exactitud se "
               "desploma: excluye las tres palabras de la pregunta antes de elegir.",
         "pt": "analogy_accuracy permite que a, b e c sejam respostas e a acurácia despenca: "
               "exclua as três palavras da pergunta antes de escolher."}},
    {"id": "accuracy-case-sensitive", "function": "analogy_accuracy",
     "variant": analogy_accuracy__case_sensitive,
     "message": {
         "en": "Words are compared with their case, so 'Athens' never matches 'athens' and "
               "many questions are skipped: compare lower-cased words.",
         "es": "Las palabras se comparan respetando mayúsculas, así que 'Athens' nunca "
               "coincide con 'athens' y se saltan muchas preguntas: compara en minúsculas.",
         "pt": "As palavras são comparadas com maiúsculas, então 'Athens' nunca coincide com "
               "'athens' e muitas perguntas são puladas: compare em minúsculas."}},
]
