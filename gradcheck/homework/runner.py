"""Running a code block: a statement interpreter on top of :mod:`gradcheck.expr`'s expression interpreter.

Scopes are chained (a helper's scope, then the block's, then the model's values); in-place writes are
functional updates (:mod:`gradcheck.inplace`); numpy's aliasing is followed by refusing to read a name
whose array was changed in place through another name (``d = probs; d[0] -= 1`` changes ``probs`` in
numpy), with the ``.copy()`` to write. Loops are unrolled (at most :data:`MAX_ITERATIONS` iterations
per run), ``if`` needs a condition known without the data, and a failing statement names its line.
"""

from __future__ import annotations

import ast
import difflib
from typing import Any, Mapping

import numpy as np

from gradcheck import inplace, numpy_ops, ops
from gradcheck.expr import _BINOPS, ExpressionError, _Interpreter, _is_jax, _is_sympy
from gradcheck.homework.code import Block, _range_call, written
from gradcheck.model import ModelError

MAX_ITERATIONS = 100_000  # loop iterations per run of a block (unrolled); the issue asks for >= 10,000
MAX_CALL_DEPTH = 50


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
        return ops.truth(value)
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
                    exc.args = (f"{self.where}: line {exc.block_line} (`{statement_text(self.block, stmt)}`): {exc.args[0]}",)
                raise
            except Exception as exc:  # noqa: BLE001 - a failing statement names its line
                raise self.block.error(f"`{statement_text(self.block, stmt)}` failed: {type(exc).__name__}: {exc}",
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


def statement_text(block: Block, stmt) -> str:
    """The line of a statement as written (shortened), for messages."""
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
