"""Code blocks as what the engine understands: the forward block as pure steps, the backward block
as claim formulas.

* :func:`lower_forward`: each top-level statement gives one step per name it writes, reading the
  names it uses; a name written again later gets internal versions (``scores__19``), and its last
  value keeps the plain name, so claims can name it as ``of`` or ``wrt``.
* :class:`BlockFormula`: a claim's formula evaluated after the backward block ran on the model's
  values; a name the block assigns means its value (``formula = "dW2"``).
"""

from __future__ import annotations

import ast
import inspect
from typing import Any, Callable, Iterable, Mapping

from gradcheck.expr import Expression
from gradcheck.homework.code import Block, statement_reads, written
from gradcheck.homework.runner import Env, Failed, Helper, Runner, run_block, statement_text


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
        return f"<statement {statement_text(self.run.block, self.run.stmt)!r} -> {self.output}>"


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
