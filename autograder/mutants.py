"""Mechanical mutants of a reference's functions, with ids that survive unrelated edits.

Mutations, in the functions students write (the names in each question's ``defines``):
arithmetic operators (+ <-> -, * <-> /, ** -> *, also in ``+=``), comparisons (< <-> <=,
> <-> >=, == <-> !=), numbers (0 -> 1, 1 -> 0 and 2, c -> c + 1 and 2c), negations (``not``
and unary minus removed), axes (axis/dim 0 <-> 1, -1 -> 0, positional axes of sum/mean/...,
keepdims flipped), True <-> False and default argument values. Messages are not mutated
(``raise`` statements, f-strings), nor annotations.

A mutant's id names the function and the changed code, ``function: before -> after`` (with
`` #2``, `` #3`` for repeats within the function), the code being the enclosing expression of
a changed literal. The mutated source is the reference's text with only the change spliced in;
it is kept only if it parses to exactly the mutated syntax tree (parenthesized if needed).
"""

from __future__ import annotations

import ast
import copy
import difflib
import io
import random
import re
import tokenize
from dataclasses import dataclass
from typing import Iterable

_OPERATORS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
              ast.Pow: ast.Mult}
_COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!="}
_AXIS_KEYWORDS = ("axis", "dim")
_KEEPDIMS_KEYWORDS = ("keepdims", "keepdim")
# Calls whose first positional argument (method form, x.sum(1)) or second (module form,
# np.sum(x, 1)) is an axis.
_AXIS_CALLS = {"sum", "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "cumsum",
               "median", "all", "any", "softmax", "log_softmax", "logsumexp", "cat",
               "concatenate", "stack", "squeeze", "unsqueeze"}
_MODULES = {"np", "numpy", "torch", "F"}
# A constant's id shows the expression around it; these are too small to say where it is.
_TRANSPARENT = (ast.Slice, ast.Tuple, ast.List, ast.UnaryOp, ast.Starred, ast.keyword,
                ast.Subscript, ast.Attribute)
_SIMPLE_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)
_CONTEXT_CHARS = 100


class MutationError(Exception):
    """The mutation run cannot give a meaningful score (names the cause and what to do)."""


@dataclass(frozen=True)
class Mutant:
    id: str
    function: str      # the top-level name of a question's defines that holds the change
    kind: str          # operator, comparison, constant, negation, axis, boolean, default
    line: int          # line of the change in the reference file
    original: str      # source of `function` as in the reference
    source: str        # the same source with the change


# -- generation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Site:
    kind: str
    path: tuple                          # where the AST node that changes is, from the function
    new_node: ast.AST                    # what it becomes
    edits: tuple[tuple[int, int, str], ...]   # (start, end, text) in source characters
    span: tuple[int, int]                # the changed node, for parentheses if needed
    context: tuple[int, int] | None      # the code the id shows (None: `label` is the id)
    label: tuple[str, str] | None = None
    line: int = 0


class _Source:
    """A module's text with its tokens; converts ast positions (byte columns) to offsets."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.tokens = [(self.offset(t.start[0], t.start[1], chars=True),
                        self.offset(t.end[0], t.end[1], chars=True), t.string)
                       for t in tokenize.generate_tokens(io.StringIO(text).readline)
                       if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT,
                                         tokenize.INDENT, tokenize.DEDENT,
                                         tokenize.ENDMARKER)]

    def offset(self, lineno: int, col: int, chars: bool = False) -> int:
        if lineno > len(self.lines):
            return len(self.text)
        line = self.lines[lineno - 1]
        if not chars:  # ast columns count UTF-8 bytes
            col = len(line.encode()[:col].decode(errors="ignore"))
        return self.starts[lineno - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def token(self, text: str, lo: int, hi: int) -> tuple[int, int] | None:
        """The first token spelled `text` starting in [lo, hi)."""
        return next(((s, e) for s, e, t in self.tokens if lo <= s < hi and t == text), None)

    def next_token_start(self, after: int) -> int:
        return next((s for s, _, _ in self.tokens if s >= after), len(self.text))


def _walk(node: ast.AST, path: tuple = (), parents: tuple = ()):
    """(node, path, ancestors) in source order, skipping messages and annotations."""
    if isinstance(node, (ast.Raise, ast.JoinedStr)):
        return
    yield node, path, parents
    for name, value in ast.iter_fields(node):
        if name in ("decorator_list", "returns", "annotation", "type_comment"):
            continue
        if isinstance(node, ast.arguments) and name in ("defaults", "kw_defaults"):
            continue  # default values are mutated as `default`, with their names
        items = value if isinstance(value, list) else [value]
        for index, child in enumerate(items):
            if isinstance(child, ast.AST):
                key = (name, index if isinstance(value, list) else None)
                yield from _walk(child, path + (key,), parents + (node,))


def _get(root: ast.AST, path: tuple) -> ast.AST:
    for name, index in path:
        root = getattr(root, name) if index is None else getattr(root, name)[index]
    return root


def _replaced(root: ast.AST, path: tuple, new: ast.AST) -> ast.AST:
    tree = copy.deepcopy(root)
    parent = _get(tree, path[:-1])
    name, index = path[-1]
    if index is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[index] = new
    return tree


def _number_changes(value) -> list:
    if value == 0:
        return [type(value)(1)]
    if value == 1:
        return [type(value)(0), type(value)(2)]
    return list(dict.fromkeys([value + 1, value * 2]))


def _int_literal(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int):
        return -node.operand.value
    return None


def _axis_change(value: int) -> int:
    return {0: 1, 1: 0}.get(value, 0)


def _positional_axis(call: ast.Call) -> ast.AST | None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _AXIS_CALLS):
        return None
    module_form = isinstance(func.value, ast.Name) and func.value.id in _MODULES
    position = 1 if module_form else 0
    if len(call.args) > position and _int_literal(call.args[position]) is not None:
        return call.args[position]
    return None


def _sites(top: ast.AST, src: _Source) -> Iterable[_Site]:
    axis_nodes: set[int] = set()   # handled as axes, not as numbers or booleans
    for node, path, parents in _walk(top):
        if isinstance(node, ast.Call):
            axis = _positional_axis(node)
            if axis is not None:
                axis_nodes.add(id(axis))
                axis_nodes.update(id(n) for n in ast.walk(axis))
        if isinstance(node, ast.keyword) and node.arg in _AXIS_KEYWORDS + _KEEPDIMS_KEYWORDS:
            axis_nodes.update(id(n) for n in ast.walk(node.value))
    for node, path, parents in _walk(top):
        yield from _node_sites(node, path, parents, src, axis_nodes)
        if isinstance(node, ast.arguments):
            yield from _default_sites(node, path, src)


def _literal_site(kind: str, node: ast.AST, path: tuple, parents: tuple, src: _Source,
                  new_value) -> _Site:
    new = ast.Constant(new_value)  # every change is >= 0: a literal -1 becomes 0 whole
    span = (src.start(node), src.end(node))
    return _Site(kind, path, new, ((*span, repr(new_value)),), span,
                 _context(node, parents, src), line=node.lineno)


def _node_sites(node, path, parents, src: _Source, axis_nodes: set[int]) -> Iterable[_Site]:
    span = (src.start(node), src.end(node)) if hasattr(node, "lineno") else None
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _OPERATORS:
        new_op = _OPERATORS[type(node.op)]
        left, right = (node.left, node.right) if isinstance(node, ast.BinOp) else \
            (node.target, node.value)
        suffix = "" if isinstance(node, ast.BinOp) else "="
        token = src.token(_SYMBOLS[type(node.op)] + suffix, src.end(left), src.start(right))
        if token:
            new = copy.deepcopy(node)
            new.op = new_op()
            yield _Site("operator", path, new, ((*token, _SYMBOLS[new_op] + suffix),), span,
                        span, line=node.lineno)
    elif isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for i, op in enumerate(node.ops):
            if type(op) not in _COMPARISONS:
                continue
            new_op = _COMPARISONS[type(op)]
            token = src.token(_SYMBOLS[type(op)], src.end(operands[i]),
                              src.start(operands[i + 1]))
            if token:
                new = copy.deepcopy(node)
                new.ops[i] = new_op()
                yield _Site("comparison", path, new, ((*token, _SYMBOLS[new_op]),), span,
                            span, line=node.lineno)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        if id(node) in axis_nodes:
            return
        # -1 as a number is mutated as such; `- x` loses its minus as a negation.
        cut = src.next_token_start(span[0] + 1)
        yield _Site("negation", path, copy.deepcopy(node.operand), ((span[0], cut, ""),), span,
                    _context(node, parents, src), line=node.lineno)
    elif isinstance(node, ast.keyword) and node.arg in _AXIS_KEYWORDS:
        value = _int_literal(node.value)
        if value is not None:
            yield _literal_site("axis", node.value, path + (("value", None),),
                                parents + (node,), src, _axis_change(value))
    elif isinstance(node, ast.keyword) and node.arg in _KEEPDIMS_KEYWORDS:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, bool):
            yield _literal_site("axis", node.value, path + (("value", None),),
                                parents + (node,), src, not node.value.value)
    elif isinstance(node, ast.Call):
        axis = _positional_axis(node)
        if axis is not None:
            index = node.args.index(axis)
            yield _literal_site("axis", axis, path + (("args", index),), parents + (node,),
                                src, _axis_change(_int_literal(axis)))
    elif isinstance(node, ast.Constant) and id(node) not in axis_nodes:
        if isinstance(node.value, bool):
            yield _literal_site("boolean", node, path, parents, src, not node.value)
        elif isinstance(node.value, (int, float)):
            for value in _number_changes(node.value):
                yield _literal_site("constant", node, path, parents, src, value)


def _default_sites(args: ast.arguments, path: tuple, src: _Source) -> Iterable[_Site]:
    positional = [*args.posonlyargs, *args.args]
    pairs = [(positional[len(positional) - len(args.defaults) + i], ("defaults", i), d)
             for i, d in enumerate(args.defaults)]
    pairs += [(a, ("kw_defaults", i), d) for i, (a, d) in
              enumerate(zip(args.kwonlyargs, args.kw_defaults)) if d is not None]
    for arg, key, default in pairs:
        if not isinstance(default, ast.Constant):
            continue
        value = default.value
        if isinstance(value, bool):
            changes = [not value]
        elif isinstance(value, (int, float)):
            changes = _number_changes(value)
        else:
            continue
        span = (src.start(default), src.end(default))
        before = src.text[span[0]:span[1]]
        for new in changes:
            yield _Site("default", path + (key,), ast.Constant(new),
                        ((*span, repr(new)),), span, None,
                        (f"{arg.arg}={before}", f"{arg.arg}={new!r}"), default.lineno)


def _context(node: ast.AST, parents: tuple, src: _Source) -> tuple[int, int]:
    """The code around a literal that an id shows: the enclosing call, operation,
    comparison or simple statement, unless that is longer than _CONTEXT_CHARS."""
    best = (src.start(node), src.end(node))
    for parent in reversed(parents):
        if isinstance(parent, ast.stmt) and not isinstance(parent, _SIMPLE_STATEMENTS):
            break
        if not hasattr(parent, "lineno"):
            continue
        span = (src.start(parent), src.end(parent))
        if len(_normal(src.text[span[0]:span[1]])) > _CONTEXT_CHARS:
            break
        best = span
        if not isinstance(parent, _TRANSPARENT):
            break
    return best


def _normal(code: str) -> str:
    return re.sub(r"\s+", " ", code).strip()


def _apply(text: str, edits: Iterable[tuple[int, int, str]], base: int = 0) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start - base] + new + text[end - base:]
    return text


def _function_span(node: ast.AST, src: _Source) -> tuple[int, int]:
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    return src.starts[first - 1], src.end(node)


def mutants_of_source(text: str, functions: Iterable[str]) -> list[Mutant]:
    """Every mutant of the named top-level functions (or classes) of a module's source, in
    a fixed order (function by function, each in syntax-tree order); ids are unique."""
    src = _Source(text)
    tree = ast.parse(text)
    tops = {n.name: n for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    mutants = []
    for name in functions:
        if name not in tops:
            close = difflib.get_close_matches(name, list(tops), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MutationError(f"the reference defines no function {name!r}{hint}")
        top = tops[name]
        lo, hi = _function_span(top, src)
        original = text[lo:hi]
        seen: dict[str, int] = {}
        for site in _sites(top, src):
            mutated = _mutated_source(site, top, src, lo, hi)
            if mutated is None:
                continue
            before, after = site.label or (
                _normal(text[site.context[0]:site.context[1]]),
                _normal(_apply(text[site.context[0]:site.context[1]],
                               mutated[1], site.context[0])))
            if before == after:
                continue
            key = f"{_qualname(top, site.path)}: {before} -> {after}"
            seen[key] = seen.get(key, 0) + 1
            mid = key if seen[key] == 1 else f"{key} #{seen[key]}"
            mutants.append(Mutant(mid, name, site.kind, site.line, original, mutated[0]))
    return mutants


def _mutated_source(site: _Site, top: ast.AST, src: _Source, lo: int, hi: int):
    """(mutated function source, edits used) when splicing the edits parses to exactly the
    mutated tree (if not, the changed node is parenthesized); None if neither does."""
    want = ast.dump(_replaced(top, site.path, site.new_node))
    wrapped = site.edits + ((site.span[0], site.span[0], "("), (site.span[1], site.span[1], ")"))
    for edits in (site.edits, wrapped):
        # Insertions at a position come after replacements ending there (sorted reverse).
        code = _apply(src.text[lo:hi], edits, lo)
        try:
            parsed = ast.parse(code).body[0]
        except SyntaxError:
            continue
        if ast.dump(parsed) == want:
            return code, edits
    return None


def _qualname(top: ast.AST, path: tuple) -> str:
    names, node = [top.name], top
    for step in path:
        node = _get(node, (step,))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return ".".join(names)


def sample(mutants: list[Mutant], limit: int | None, seed: str) -> list[Mutant]:
    """At most `limit` mutants (None or 0: all), the same ones for the same seed and list,
    kept in their original order."""
    if not limit or len(mutants) <= limit:
        return list(mutants)
    chosen = set(random.Random(f"mutation:{seed}").sample(range(len(mutants)), limit))
    return [m for i, m in enumerate(mutants) if i in chosen]
