"""Code blocks: ``[forward] code`` and ``[backward] code`` written as numpy statements: parsing and checking.

A block is parsed with :mod:`ast` (``mode="exec"``), its numpy spelling rewritten by
:mod:`gradcheck.numpy_names`, and every statement checked against a whitelist, all problems reported
at once, each with its line in the file and its column. Nothing is passed to ``exec`` or ``eval``:
:mod:`gradcheck.homework.runner` interprets the statements and :mod:`gradcheck.homework.lowering`
turns blocks into steps and claim formulas.

Statements: assignment (also to tuples), augmented assignment ``+= -= *= /=`` (also to subscripts
and boolean masks), ``np.add.at(a, idx, v)``, ``for i in range(...)`` / ``reversed(range(...))``,
``if``/``else``, ``def`` helpers with ``return``, ``pass``, ``break``, ``continue``. This module also
holds the static structure the loader needs: the names a statement writes and reads, and the names
a block uses that nothing defines (with suggestions from the whole vocabulary).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from gradcheck import limits, numpy_names
from gradcheck.expr import FUNCTIONS, ExpressionError, _Validator, problem_error
from gradcheck.model import ModelError

_AUG_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class BlockErrors(ModelError):
    """Every problem of a block (or a file), one per line."""

    def __init__(self, errors: list[ExpressionError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


# ---------------------------------------------------------------------- parsing and validation
@dataclass
class Block:
    """A parsed, whitelisted block of statements."""

    text: str
    where: str
    line_offset: int
    module: ast.Module
    helpers: dict[str, ast.FunctionDef] = field(default_factory=dict)

    @property
    def assigned(self) -> tuple[str, ...]:
        """Names the block assigns at its top level (in order of first assignment)."""
        out: list[str] = []
        for stmt in self.module.body:
            out += [n for n in written(stmt) if n not in out]
        return tuple(out)

    def loads(self) -> tuple[str, ...]:
        """Names the block reads that are not local to one of its helpers (function names excluded)."""
        return tuple(dict.fromkeys(n for stmt in self.module.body for n in _free_loads(stmt)))

    def error(self, message: str, line: int | None, column: int | None, construct: str = "") -> ExpressionError:
        """An error at a line of the block (``line`` counts from the block's first line)."""
        err = ExpressionError(message, where=self.where, line=None if line is None else line + self.line_offset,
                              column=column, construct=construct)
        err.located = True
        return err


def parse_block(text: str, *, where: str, line_offset: int = 0) -> Block:
    """Parse and check a block; raises :class:`BlockErrors` with every problem found."""
    if not isinstance(text, str) or not text.strip():
        raise BlockErrors([ExpressionError("the code block is empty", where=where)])
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        hint = " (`^` is xor: use ** for powers)" if "^" in (exc.text or "") else ""
        raise BlockErrors([ExpressionError(f"syntax error: {exc.msg}{hint}", where=where,
                                           line=(exc.lineno or 1) + line_offset, column=max(exc.offset or 0, 1),
                                           construct="syntax")]) from None
    except (RecursionError, MemoryError):  # Python's own parser gives up on very deep nesting
        raise BlockErrors([ExpressionError(f"a statement nests too deeply to be parsed (more than {limits.MAX_DEPTH} "
                                           "levels of +, **, unary minus, .T or indexing); split it into several "
                                           "statements", where=where, construct="limit")]) from None
    too_deep = []
    for stmt in module.body:  # before any recursive walk of the tree
        try:
            limits.check_tree(stmt, "")
        except limits.LimitError as exc:
            too_deep.append(ExpressionError(str(exc), where=where, line=stmt.lineno + line_offset,
                                            column=stmt.col_offset + 1, construct="limit"))
    if too_deep:
        raise BlockErrors(too_deep)
    module, problems = numpy_names.normalize(module, text)
    errors = [problem_error(p, where, line_offset) for p in problems]
    block = Block(text, where, line_offset, module)
    block.helpers = {s.name: s for s in ast.walk(module) if isinstance(s, ast.FunctionDef)}
    checker = _StatementChecker(block, errors)
    for stmt in module.body:
        checker.statement(stmt, in_function=False, in_loop=False)
    if errors:
        unique = {(e.line, e.column): e for e in reversed(errors)}  # the rewrite's message wins over the whitelist's
        raise BlockErrors(sorted(unique.values(), key=lambda e: (e.line or 0, e.column or 0)))
    return block


class _BlockValidator(_Validator):
    """The expression whitelist, plus calls of the block's own helpers."""

    def __init__(self, where: str, names: list[str], helpers: Iterable[str]):
        super().__init__(where, names)
        self.helpers = set(helpers)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id == "add_at":
            self.fail(node, "np.add.at(...) inside an expression",
                      "write it as a statement on its own line: np.add.at(a, idx, v)")
        if isinstance(node.func, ast.Name) and node.func.id in self.helpers:
            for a in node.args:
                self.visit(a)
            for k in node.keywords:
                self.visit(k.value)
            return
        super().visit_Call(node)


class _StatementChecker:
    def __init__(self, block: Block, errors: list[ExpressionError]):
        self.block, self.errors = block, errors

    def fail(self, node, message: str, construct: str = "") -> None:
        self.errors.append(self.block.error(message, getattr(node, "lineno", None),
                                            getattr(node, "col_offset", -1) + 1, construct))

    def expr(self, node, index: bool = False) -> None:
        try:
            validator = _BlockValidator(self.block.where, [], self.block.helpers)
            validator._index(node) if index else validator.visit(node)
        except ExpressionError as exc:
            self.errors.append(self.block.error(exc.reason, exc.line if exc.line else node.lineno,
                                                exc.column, exc.construct))

    def target(self, node) -> None:
        if isinstance(node, ast.Name):
            return
        if isinstance(node, (ast.Tuple, ast.List)):
            for e in node.elts:
                self.target(e)
            return
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            self.expr(node.slice, index=True)
            return
        self.fail(node, f"assigning to `{ast.unparse(node)}` is not supported: assign to a name or to "
                        "name[index]", "assignment target")

    def statement(self, s, *, in_function: bool, in_loop: bool) -> None:
        kind = type(s).__name__
        if isinstance(s, ast.Assign):
            for t in s.targets:
                self.target(t)
            self.expr(s.value)
        elif isinstance(s, ast.AugAssign):
            if not isinstance(s.op, _AUG_OPS):
                op = {ast.Pow: "**=", ast.MatMult: "@=", ast.FloorDiv: "//=", ast.Mod: "%="}.get(type(s.op), "this")
                self.fail(s, f"the augmented assignment {op} is not supported: write x = x ... instead", op)
            if isinstance(s.target, (ast.Tuple, ast.List)):
                self.fail(s.target, "augmented assignment to a tuple is not Python", "assignment target")
            else:
                self.target(s.target)
            self.expr(s.value)
        elif isinstance(s, ast.AnnAssign):
            self.fail(s, "annotated assignments are not supported: drop the annotation", "annotation")
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return  # a docstring or comment string
            call = s.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "add_at":
                if len(call.args) != 3 or call.keywords or not isinstance(call.args[0], ast.Name):
                    self.fail(s, "write np.add.at(a, idx, v) with a name as its first argument", "np.add.at")
                    return
                for a in call.args[1:]:
                    self.expr(a)
                return
            what = ast.unparse(call.func) if isinstance(call, ast.Call) else ast.unparse(call)
            self.fail(s, f"the statement `{what}` computes a value and drops it: assign it (x = ...) or "
                         "remove it (print and asserts are not needed here)", "expression statement")
        elif isinstance(s, ast.For):
            if not isinstance(s.target, ast.Name):
                self.fail(s.target, "a for loop needs one loop variable: for i in range(n)", "for target")
            if not _range_call(s.iter):
                self.fail(s.iter, "loops must run over range(...) (or reversed(range(...))) with integer "
                                  "bounds from dims, x.shape[i], len(x) or constants", "for iterable")
            else:
                for a in _range_call(s.iter).args:
                    self.expr(a)
            if s.orelse:
                self.fail(s.orelse[0], "for ... else is not supported", "for else")
            for b in s.body:
                self.statement(b, in_function=in_function, in_loop=True)
        elif isinstance(s, ast.If):
            self.expr(s.test)
            for b in s.body + s.orelse:
                self.statement(b, in_function=in_function, in_loop=in_loop)
        elif isinstance(s, ast.FunctionDef):
            a = s.args
            if s.decorator_list or a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
                self.fail(s, f"def {s.name}: only plain parameters (with defaults) are supported", "def")
            for d in a.defaults:
                self.expr(d)
            for b in s.body:
                self.statement(b, in_function=True, in_loop=False)
        elif isinstance(s, ast.Return):
            if not in_function:
                self.fail(s, "return outside a def", "return")
            elif s.value is not None:
                self.expr(s.value)
        elif isinstance(s, (ast.Break, ast.Continue)):
            if not in_loop:
                self.fail(s, f"{kind.lower()} outside a loop", kind.lower())
        elif isinstance(s, ast.Pass):
            return
        else:
            advice = {"Import": "remove the import: np and numpy are understood without it",
                      "ImportFrom": "remove the import: np and numpy are understood without it",
                      "While": "write for i in range(n) with a bound from the dims",
                      "Assert": "remove it: gradcheck checks shapes and values itself",
                      "With": "remove it", "Try": "remove it: errors are reported by gradcheck",
                      "ClassDef": "write plain functions (def)", "Global": "remove it",
                      "Nonlocal": "remove it", "Delete": "remove it", "Raise": "remove it"}.get(kind, "")
            self.fail(s, f"the statement `{kind.lower()}` is not supported" + (f": {advice}" if advice else ""), kind)


def _range_call(node) -> ast.Call | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "reversed" \
            and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "arange" \
            and 1 <= len(node.args) <= 3 and not node.keywords:
        return node
    return None


# ---------------------------------------------------------------------- static structure
def written(stmt) -> list[str]:
    """Names a top-level statement binds (loop variables excluded; helpers' locals excluded)."""
    out: list[str] = []

    def target(t):
        if isinstance(t, ast.Name):
            out.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                target(e)
        elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
            out.append(t.value.id)

    def walk(s):
        if isinstance(s, ast.Assign):
            for t in s.targets:
                target(t)
        elif isinstance(s, ast.AugAssign):
            target(s.target)
        elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and getattr(s.value.func, "id", "") == "add_at":
            target(s.value.args[0])
        elif isinstance(s, (ast.For, ast.If)):
            for b in s.body + s.orelse:
                walk(b)

    walk(stmt)
    return list(dict.fromkeys(out))


def _local_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in fn.args.args}
    for s in ast.walk(fn):
        if isinstance(s, ast.Name) and isinstance(s.ctx, ast.Store):
            names.add(s.id)
        if isinstance(s, ast.For) and isinstance(s.target, ast.Name):
            names.add(s.target.id)
    names.discard(fn.name)
    return names


def _free_loads(node) -> list[str]:
    """Names read by ``node``, leaving out the locals of the helpers it defines and function names."""
    out: list[str] = []
    if isinstance(node, ast.FunctionDef):
        local = _local_names(node)
        for s in node.body + node.args.defaults:
            out += [n for n in _free_loads(s) if n not in local]
        return out
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef):
            out += _free_loads(child)
        elif isinstance(node, ast.Call) and child is node.func:
            continue
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
            out.append(child.id)
        else:
            out += _free_loads(child)
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        out.append(node.id)
    return out


def _called(node) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def statement_reads(stmt, helpers: Mapping[str, ast.FunctionDef]) -> list[str]:
    """Free names of a statement and of every helper it calls (transitively)."""
    names = list(_free_loads(stmt))
    seen: set[str] = set()
    todo = [h for h in _called(stmt) if h in helpers]
    while todo:
        h = todo.pop()
        if h in seen:
            continue
        seen.add(h)
        names += _free_loads(helpers[h])
        todo += [c for c in _called(helpers[h]) if c in helpers and c not in seen]
    loop_vars = {s.target.id for s in ast.walk(stmt) if isinstance(s, ast.For) and isinstance(s.target, ast.Name)}
    return [n for n in dict.fromkeys(names) if n not in loop_vars]


def unknown_names(block: Block, vocabulary: Iterable[str], extra_functions: Iterable[str] = ()) -> list[ExpressionError]:
    """Names the block reads that nothing defines, with suggestions from the whole vocabulary."""
    vocabulary = set(vocabulary)
    defined = set(vocabulary) | set(block.assigned) | set(block.helpers) | set(extra_functions)
    for stmt in ast.walk(block.module):
        if isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
            defined.add(stmt.target.id)
    errors, reported = [], set()
    everything = sorted(defined | set(FUNCTIONS))
    for stmt in block.module.body:
        for name in statement_reads(stmt, block.helpers):
            if name in defined or name in reported:
                continue
            reported.add(name)
            node = next(n for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id == name)
            close = difflib.get_close_matches(name, everything, n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            errors.append(block.error(f"unknown name {name!r}{hint}", node.lineno, node.col_offset + 1, name))
    return errors
