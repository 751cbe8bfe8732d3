"""Code blocks: ``[forward] code`` and ``[backward] code`` written as numpy statements.

A block is parsed with :mod:`ast` (``mode="exec"``), its numpy spelling rewritten by
:mod:`gradcheck.numpy_names`, every statement checked against a whitelist (all problems reported at
once, each with its line and column), and run by a statement interpreter on top of the expression
interpreter of :mod:`gradcheck.expr`; nothing is passed to ``exec`` or ``eval``.

Statements: assignment (also to tuples), augmented assignment ``+= -= *= /=`` (also to subscripts
and boolean masks), ``np.add.at(a, idx, v)``, ``for i in range(...)`` (unrolled; at most
:data:`MAX_ITERATIONS` iterations per run of a block), ``if`` on values known without the data
(dims, constants, loop indices), ``def`` helpers (local scope, ``return``, tuples), ``pass``,
``break``, ``continue``. In-place writes are functional updates (:mod:`gradcheck.inplace`), so every
backend computes the same thing; numpy's aliasing is followed by refusing to read a name whose
array was changed through another name (``dscores = probs; dscores[...] -= 1`` changes ``probs`` in
numpy: reading ``probs`` afterwards is an error that says to write ``probs.copy()``).

* The forward block is lowered to pure steps (:func:`lower_forward`): each top-level statement gives
  one step per name it writes, reading the names it uses; a name written again later gets internal
  versions (``scores__3``), and its last version keeps the plain name, so claims can name it.
* The backward block is run per claim evaluation (:class:`BlockFormula`) on the model's values; a
  claim's formula may name what it assigns (``formula = "dW2"``).
"""

from __future__ import annotations

import ast
import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from gradcheck import inplace, numpy_names, numpy_ops
from gradcheck.expr import (
    _BINOPS,
    FUNCTIONS,
    Expression,
    ExpressionError,
    _Interpreter,
    _is_jax,
    _is_sympy,
    _Validator,
    problem_error,
)
from gradcheck.model import ModelError

MAX_ITERATIONS = 100_000  # loop iterations per run of a block (unrolled); the issue asks for >= 10,000
MAX_CALL_DEPTH = 50
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


# ---------------------------------------------------------------------- running
class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Env:
    """One scope: its own names, then the enclosing scope's (a helper's parent is where it was defined)."""

    def __init__(self, names: dict, parent: Env | Mapping | None):
        self.names, self.parent = names, parent

    def find(self, name: str):
        """(the mapping that holds ``name``, its value); KeyError if none does."""
        env = self
        while isinstance(env, Env):
            if name in env.names:
                return env.names, env.names[name]
            env = env.parent
        if env is not None and name in env:
            return env, env[name]
        raise KeyError(name)

    def chain(self):
        env = self
        while isinstance(env, Env):
            yield env.names
            env = env.parent
        if env is not None:
            yield env

    def visible(self) -> list[str]:
        return [k for m in self.chain() for k in m]


class _ScopeView(Mapping):
    """The mapping the expression interpreter reads: the scope chain, refusing stale names."""

    def __init__(self, runner: Runner, env: Env):
        self.runner, self.env = runner, env

    def __getitem__(self, name):
        holder, value = self.env.find(name)
        if isinstance(value, Failed):
            raise value.error
        changed_by = self.runner.stale.get((id(holder), name))
        if changed_by is not None:
            raise ExpressionError(f"{name!r} was changed in place through {changed_by!r} (numpy shares the array "
                                  f"between them); write `{changed_by} = {name}.copy()` where {changed_by!r} is made",
                                  construct=name)
        return value

    def __contains__(self, name):
        try:
            self.env.find(name)
            return True
        except KeyError:
            return False

    def __iter__(self):
        return iter(dict.fromkeys(self.env.visible()))

    def __len__(self):
        return len(set(self.env.visible()))


class Helper:
    """A ``def`` of the block, with the scope it was defined in."""

    def __init__(self, node: ast.FunctionDef, env: Env):
        self.node, self.env = node, env


class _Evaluator(_Interpreter):
    def __init__(self, runner: Runner, env: Env):
        super().__init__(_ScopeView(runner, env), runner.where, runner.symbolic)
        self.runner, self.env = runner, env
        self.masks = frozenset(runner.masks)

    def visit_Name(self, node):
        try:
            return self.scope[node.id]
        except KeyError:
            close = difflib.get_close_matches(node.id, list(self.scope), n=3)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ExpressionError(f"{node.id!r} is not defined at this point{hint}", construct=node.id) from None

    def visit_Compare(self, node):
        values = [self.visit(node.left)] + [self.visit(c) for c in node.comparators]
        if all(_is_plain_number(v) for v in values):  # dims, loop indices, constants: not a kink
            ok = all(_plain_compare(type(op), a, b) for op, a, b in zip(node.ops, values, values[1:]))
            return 1.0 if ok else 0.0
        return super().visit_Compare(node)

    def visit_Call(self, node):
        name = node.func.id
        try:
            _, value = self.env.find(name)
        except KeyError:
            value = None
        if isinstance(value, Helper):
            args = [self.visit(a) for a in node.args]
            kwargs = {k.arg: self.visit(k.value) for k in node.keywords}
            return self.runner.call(value, args, kwargs, node)
        return super().visit_Call(node)


def _is_plain_number(v) -> bool:
    """A number known without the data: Python numbers (dims, constants, loop indices, shapes), numpy
    integers, SymPy numbers (dims and constants of the symbolic oracle). A numpy float is an entry of an
    array (data-dependent), so it is not one."""
    if isinstance(v, (bool, int, float, np.integer)) and not isinstance(v, np.floating):
        return True
    if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iub":  # a size, as a 0-d integer array
        return True
    sympy_number = _is_sympy(v) and not isinstance(v, np.ndarray) and getattr(v, "is_number", False)
    return bool(sympy_number)


def _plain_compare(op, a, b) -> bool:
    return {ast.Gt: a > b, ast.GtE: a >= b, ast.Lt: a < b, ast.LtE: a <= b, ast.Eq: a == b}[op]


def _concrete_condition(value) -> bool | None:
    """The truth of an ``if`` condition known without the data; None when it depends on values."""
    if _is_jax(value):
        return None
    if isinstance(value, np.ndarray):
        if value.ndim or value.dtype == object:
            return None
        value = value[()]
    if _is_plain_number(value):
        return bool(value)
    return None


class Runner:
    """Runs statements. ``stale`` maps (scope id, name) to the name through which its array changed."""

    def __init__(self, block: Block, values: Mapping[str, Any]):
        self.block, self.where = block, block.where
        self.symbolic = any(_is_sympy(v) for v in values.values())
        self.masks: set[str] = set()
        self.stale: dict[tuple[int, str], str] = {}
        self.iterations = 0
        self.depth = 0

    # ------------------------------------------------------------------ statements
    def run(self, body, env: Env) -> None:
        for stmt in body:
            try:
                self.statement(stmt, env)
            except (_Return, _Break, _Continue):
                raise
            except ExpressionError as exc:
                raise self._located(exc, stmt) from None
            except ModelError as exc:  # a shape clash: keep its type (a shape error), name the line
                if not getattr(exc, "block_line", None):
                    exc.block_line = stmt.lineno + self.block.line_offset
                    exc.args = (f"{self.where}: line {exc.block_line} (`{_line(self.block, stmt)}`): {exc.args[0]}",)
                raise
            except Exception as exc:  # noqa: BLE001 - a failing statement names its line
                raise self.block.error(f"`{_line(self.block, stmt)}` failed: {type(exc).__name__}: {exc}",
                                       stmt.lineno, stmt.col_offset + 1, "statement") from None

    def _located(self, exc: ExpressionError, stmt) -> ExpressionError:
        """The error with the block's line (expression errors carry lines counted within the block)."""
        if getattr(exc, "located", False):
            return exc
        line = exc.line if exc.line else stmt.lineno
        column = exc.column if exc.line else stmt.col_offset + 1
        return self.block.error(exc.reason, line, column, exc.construct)

    def statement(self, s, env: Env) -> None:
        ev = _Evaluator(self, env)
        if isinstance(s, ast.Assign):
            value = ev.visit(s.value)
            for t in s.targets:
                self.bind(t, value, env, s.value)
        elif isinstance(s, ast.AugAssign):
            self.augmented(s, env, ev)
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Call):  # np.add.at (the checker allows nothing else)
                a, idx, v = s.value.args
                old = ev.visit(ast.Name(a.id, ast.Load()))
                self.write(a.id, inplace.add_at(old, ev._index(idx), ev.visit(v)), env, old)
        elif isinstance(s, ast.For):
            self.loop(s, env, ev)
        elif isinstance(s, ast.If):
            value = ev.visit(s.test)
            truth = _concrete_condition(value)
            if truth is None:
                raise self.block.error("`if` needs a condition known without the data (dims, constants, loop "
                                       "indices); for a condition on array values write where(cond, a, b)",
                                       s.test.lineno, s.test.col_offset + 1, "if")
            self.run(s.body if truth else s.orelse, env)
        elif isinstance(s, ast.FunctionDef):
            env.names[s.name] = Helper(s, env)
        elif isinstance(s, ast.Return):
            raise _Return(None if s.value is None else ev.visit(s.value))
        elif isinstance(s, ast.Break):
            raise _Break
        elif isinstance(s, ast.Continue):
            raise _Continue

    def loop(self, s: ast.For, env: Env, ev: _Evaluator) -> None:
        call = _range_call(s.iter)
        bounds = [numpy_ops.as_int(ev.visit(a), "a range bound") for a in call.args]
        indices = range(*bounds)
        if call is not s.iter:
            indices = reversed(indices)
        for i in indices:
            self.iterations += 1
            if self.iterations > MAX_ITERATIONS:
                raise self.block.error(f"the loops of this block run more than {MAX_ITERATIONS:,} iterations; "
                                       "check at smaller dims (a formula that holds at any size is checked at a "
                                       "small one) or write the loop vectorized", s.lineno, s.col_offset + 1, "for")
            self.bind_name(s.target.id, i, env, None)
            try:
                self.run(s.body, env)
            except _Break:
                break
            except _Continue:
                continue

    # ------------------------------------------------------------------ binding and writing
    def bind_name(self, name: str, value, env: Env, value_node) -> None:
        if self.symbolic and isinstance(value, np.ndarray) and value.dtype.kind == "f":
            value = numpy_ops.exact_array(value)  # np.zeros(...) filled with SymPy values: keep every product exact
        env.names[name] = value
        self.stale.pop((id(env.names), name), None)
        if value_node is not None and (isinstance(value_node, ast.Compare)
                                       or isinstance(value_node, ast.Name) and value_node.id in self.masks):
            self.masks.add(name)
        else:
            self.masks.discard(name)

    def bind(self, target, value, env: Env, value_node) -> None:
        if isinstance(target, ast.Name):
            self.bind_name(target.id, value, env, value_node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, (tuple, list)) or len(value) != len(target.elts):
                n = len(value) if isinstance(value, (tuple, list)) else "a non-tuple"
                raise ExpressionError(f"cannot unpack {n} value(s) into {len(target.elts)} names",
                                      construct="tuple assignment")
            for t, v in zip(target.elts, value):
                self.bind(t, v, env, None)
        else:  # name[index] = value
            name = target.value.id
            ev = _Evaluator(self, env)
            old = ev.visit(ast.Name(name, ast.Load()))
            idx = ev._index(target.slice)
            if _is_mask_index(idx):
                new = self._mask_write(idx, value, old)
            else:
                new = inplace.set_at(old, idx, value)
            self.write(name, new, env, old)

    def _mask_write(self, mask, value, old):
        if np.ndim(value) and tuple(np.shape(value)) != tuple(np.shape(old)):
            raise ExpressionError("x[mask] = v is supported for a scalar v (or v of x's shape); write "
                                  "x = where(mask, v, x) instead", construct="mask write")
        return inplace.where_mask(mask, value, old)

    def augmented(self, s: ast.AugAssign, env: Env, ev: _Evaluator) -> None:
        op = _BINOPS[type(s.op)]
        value = ev.visit(s.value)
        if isinstance(s.target, ast.Name):
            old = ev.visit(ast.Name(s.target.id, ast.Load()))  # refuses a stale name
            new = op(old, value)
            if isinstance(old, np.ndarray):  # numpy changes the array itself: its aliases change too
                self.write(s.target.id, new, env, old)
            else:
                self.bind_name(s.target.id, new, env, None)
            return
        name = s.target.value.id
        old = ev.visit(ast.Name(name, ast.Load()))  # refuses a stale name
        idx = ev._index(s.target.slice)
        if _is_mask_index(idx):
            new = self._mask_write(idx, op(old, value), old) if np.ndim(value) == 0 else None
            if new is None:
                raise ExpressionError("x[mask] += v is supported for a scalar v; write x = x + where(mask, v, 0)",
                                      construct="mask write")
        else:
            new = inplace.set_at(old, idx, op(inplace.get_at(old, idx), value))
        self.write(name, new, env, old)

    def write(self, name: str, new, env: Env, old) -> None:
        """Rebind ``name`` after an in-place change of ``old``; names sharing its memory become stale."""
        if isinstance(old, np.ndarray):
            for scope in env.chain():
                for other, v in scope.items():
                    if other != name and isinstance(v, np.ndarray) and v.size and _shares(v, old):
                        self.stale[(id(scope), other)] = name
        self.bind_name(name, new, env, None)

    # ------------------------------------------------------------------ helpers
    def call(self, helper: Helper, args, kwargs, node):
        fn = helper.node
        params = [a.arg for a in fn.args.args]
        defaults = dict(zip(params[len(params) - len(fn.args.defaults):], fn.args.defaults))
        if len(args) > len(params):
            raise ExpressionError(f"{fn.name}() takes {len(params)} arguments, got {len(args)}", construct=fn.name)
        local: dict[str, Any] = dict(zip(params, args))
        for k, v in kwargs.items():
            if k not in params or k in local:
                raise ExpressionError(f"{fn.name}() got an unexpected or repeated argument {k!r}", construct=fn.name)
            local[k] = v
        env = Env(local, helper.env)
        for p in params:
            if p not in local:
                if p not in defaults:
                    raise ExpressionError(f"{fn.name}() is missing the argument {p!r}", construct=fn.name)
                local[p] = _Evaluator(self, env).visit(defaults[p])
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise ExpressionError(f"calls nested more than {MAX_CALL_DEPTH} deep (recursion?)", construct=fn.name)
        try:
            self.run(fn.body, env)
        except _Return as r:
            return r.value
        finally:
            self.depth -= 1
        return None


def _shares(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two arrays share an element in memory (numpy views)? Exact when numpy can decide quickly."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=100_000))
    except np.exceptions.TooHardError:
        return True


def _is_mask_index(idx) -> bool:
    return not isinstance(idx, tuple) and getattr(idx, "dtype", None) == bool and getattr(idx, "ndim", 0) > 0


def _line(block: Block, stmt) -> str:
    lines = block.text.splitlines()
    text = lines[stmt.lineno - 1].strip() if 0 < stmt.lineno <= len(lines) else ast.unparse(stmt)
    return text if len(text) <= 60 else text[:57] + "..."


class Failed:
    """The value of a name whose statement failed: reading it raises that statement's error."""

    def __init__(self, error: Exception):
        self.error = error


def run_block(block: Block, values: Mapping[str, Any], helpers: Mapping[str, ast.FunctionDef] | None = None,
              *, keep_going: bool = False) -> dict:
    """Run the block on ``values`` (read-only); returns the names it bound at its top level.

    With ``keep_going``, a failing top-level statement does not stop the block: the names it writes
    become :class:`Failed` (reading them raises its error), so one wrong line of a backward pass does
    not make the claims about the other lines unevaluable.
    """
    env = Env({}, values)
    runner = Runner(block, values)
    for name, node in (helpers or {}).items():
        env.names[name] = Helper(node, env)
    if not keep_going:
        runner.run(block.module.body, env)
        return env.names
    for stmt in block.module.body:
        try:
            runner.run([stmt], env)
        except Exception as exc:  # noqa: BLE001 - recorded for the names the statement writes
            for name in written(stmt):
                env.names[name] = Failed(exc)
    return env.names


# ---------------------------------------------------------------------- the forward block as steps
class StatementStep:
    """One name written by one top-level statement: a pure step reading the names the statement uses."""

    def __init__(self, run: _StatementRun, output: str):
        self.run, self.output = run, output
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p, _ in run.params])
        self.__name__ = self.__qualname__ = f"{run.block.where} line {run.stmt.lineno + run.block.line_offset}"

    def __call__(self, *args):
        env = self.run(args)
        if self.output not in env:
            raise self.run.block.error(f"{self.output!r} is not assigned when this statement runs (its `if` branch "
                                       "did not run); assign it before", self.run.stmt.lineno,
                                       self.run.stmt.col_offset + 1, self.output)
        return env[self.output]

    def __repr__(self):
        return f"<statement {_line(self.run.block, self.run.stmt)!r} -> {self.output}>"


class _StatementRun:
    """Runs one statement; remembers the last result so the steps of its several outputs share one run."""

    def __init__(self, block: Block, stmt, params: list[tuple[str, str]], helpers: Mapping[str, ast.FunctionDef]):
        self.block, self.stmt, self.params, self.helpers = block, stmt, params, helpers
        self._last: tuple | None = None

    def __call__(self, args) -> dict:
        if self._last is not None and len(self._last[0]) == len(args) and \
                all(a is b for a, b in zip(self._last[0], args)):
            return self._last[1]
        values = {user: a for (_, user), a in zip(self.params, args)}
        env = Env(dict(values), {})
        runner = Runner(self.block, values)
        for name, node in self.helpers.items():
            env.names.setdefault(name, Helper(node, env))
        runner.run([self.stmt], env)
        self._last = (tuple(args), env.names)
        return env.names


def lower_forward(block: Block, inputs: Iterable[str]) -> list[tuple[str, Callable]]:
    """The forward block as ``(step name, function)`` pairs: SSA over top-level statements.

    A name written by a later top-level statement, or that is an input (data, param, dim, constant),
    gets versioned step names ``name__<line>``; the last write of any other name is the step ``name``.
    Steps do not share arrays, so numpy's aliasing across statements (``h = z`` then ``h[...] = 0``
    also changes ``z``) is checked by running the whole block once (:func:`check_aliasing`).
    """
    inputs = set(inputs)
    body = [s for s in block.module.body if not isinstance(s, (ast.FunctionDef, ast.Pass))
            and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    writes = [written(s) for s in body]
    last = {n: i for i, ws in enumerate(writes) for n in ws}
    current = {n: n for n in inputs}
    steps, used = [], set(inputs)
    for i, stmt in enumerate(body):
        reads = [n for n in statement_reads(stmt, block.helpers) if n in current]
        reads += [w for w in writes[i] if w in current and w not in reads]  # an unexecuted branch keeps it
        params = [(current[n], n) for n in reads]
        run = _StatementRun(block, stmt, params, block.helpers)
        for w in writes[i]:
            version = w if (last[w] == i and w not in inputs) else f"{w}__{stmt.lineno + block.line_offset}"
            k = 1
            while version in used:  # two statements on one line (a; b)
                k += 1
                version = f"{w}__{stmt.lineno + block.line_offset}_{k}"
            used.add(version)
            steps.append((version, StatementStep(run, w)))
            current[w] = version
    return steps


def check_aliasing(block: Block, values: Mapping[str, Any]) -> None:
    """Run the forward block as one program: a name read after its array was changed in place through
    another name (numpy's aliasing, which separate steps would not follow) raises the runner's error."""
    run_block(block, values)


# ---------------------------------------------------------------------- the backward block for claims
class BlockFormula:
    """A claim's formula evaluated after the backward block: names the block assigns mean its values."""

    def __init__(self, block: Block, expression: Expression, reads: tuple[str, ...],
                 helpers: Mapping[str, ast.FunctionDef]):
        self.block, self.expression, self.helpers = block, expression, helpers
        self.names = reads
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in reads])
        self.__name__ = self.__qualname__ = expression.where or "formula"
        self.source = expression.source

    def __call__(self, *args, **kwargs):
        bound = self.__signature__.bind(*args, **kwargs).arguments
        assigned = run_block(self.block, bound, self.helpers, keep_going=True)
        for name in self.expression.names:
            if isinstance(assigned.get(name), Failed):
                raise assigned[name].error
        scope = {**bound, **{k: v for k, v in assigned.items() if not isinstance(v, Helper)}}
        return self.expression.evaluate(scope)

    def block_values(self, values: Mapping[str, Any]) -> dict:
        """The names the backward block assigns, run on ``values`` (those whose statement failed left out)."""
        assigned = run_block(self.block, {n: values[n] for n in self.names if n in values}, self.helpers,
                             keep_going=True)
        return {k: v for k, v in assigned.items() if not isinstance(v, (Helper, Failed))}

    def with_expression(self, expression: Expression) -> "BlockFormula":
        """The same block with another formula (a repair of this one)."""
        block_names = set(self.block.assigned)
        own = tuple(n for n in self.names if n in self.block.loads())
        reads = tuple(dict.fromkeys(own + tuple(n for n in expression.names if n not in block_names)))
        return BlockFormula(self.block, expression, reads, self.helpers)

    def __repr__(self):
        return f"<formula {self.expression.source!r} after the backward block>"
