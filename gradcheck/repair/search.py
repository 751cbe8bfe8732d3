"""Repair search: the smallest edit (or pair of edits) after which a formula is correct.

1. The true value is computed once at two seeded points (the first two points ``check_claim``
   draws) with the finite-difference oracle's Jacobian (complex step, validated), in the claim's
   layout; names in ``uses`` get their true values the same way.
2. Single edits (:mod:`gradcheck.repair.edits`) are *screened* at the first point with numpy:
   the edited expression is evaluated and compared with the true value (relative 1e-6); edits
   whose shapes do not fit are dropped. Candidates are deduplicated by their text.
3. Survivors are re-screened at the second point and at a point of the model's second size
   (:mod:`gradcheck.sizes`: other dims and constants, so an edit right only by a coincidence of
   values, such as "multiply by c" where c = 2 by chance, is dropped), then confirmed, smallest first (fewest edits,
   then shortest text), by :func:`gradcheck.check.check_claim` with all its oracles: a repair is a
   claim that passes, never a guess.
4. Only if no single edit is confirmed (and ``max_edits >= 2``), pairs: second edits applied to the
   single-edit candidates, those closest to the truth first (residual after the best scalar factor,
   transpose or batch sum), then those whose shapes did not fit.

Bounded by ``budget`` seconds (no new candidate or confirmation starts after it; a confirmation
that has started finishes, typically 1-3 s) and by ``max_candidates`` screened candidates.
Deterministic: fixed edit order, seeded points, no randomness.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

import numpy as np

from gradcheck import ops
from gradcheck.claim import Claim, Derivation
from gradcheck.expr import Expression, _Interpreter
from gradcheck.model import Model
from gradcheck.repair.edits import Activation, Context, Edit, generate, sites
from gradcheck.repair.latex import describe_repair
from gradcheck.repair.source import NotSearchable, formula_expression
from gradcheck.sizes import SecondSize, second_size

SCREEN_RTOL = 1e-6
N_SCREEN_POINTS = 2


@dataclass(frozen=True)
class Repair:
    formula: str  # the edited source text
    edits: tuple[str, ...]  # human-readable, in the order applied
    confirmed_by: tuple[str, ...]  # oracles that passed the repaired claim
    latex: str | None = None
    kinds: tuple[str, ...] = ()  # sign | transpose | scale | batch sum | name | operator | activation
    original: str = ""
    uses: tuple = ()  # (name, (of, wrt)) derivative names borrowed from other claims of the derivation
    words: tuple[str, ...] = ()  # the edits in the document's notation (``$...$`` math)
    explanation: str = ""  # what the repair reveals, in words

    @property
    def text(self) -> str:
        return f"correct if you {' and '.join(self.edits)}: `{self.formula}`"


@dataclass(frozen=True)
class RepairOutcome:
    repair: Repair | None
    message: str
    candidates_tried: int = 0
    seconds: float = 0.0
    confirmations: int = 0  # check_claim runs


@dataclass
class _Candidate:
    text: str  # the formula's text; written out only for the candidates that survive screening
    tree: ast.Expression
    edits: tuple[Edit, ...]
    order: int
    value: Any = None  # at the first screening point; kept only for candidates that match the truth there
    score: float = float("inf")  # closeness to the truth (single edits), computed while the value is at hand
    evaluated: bool = False  # False: the candidate could not be evaluated (shapes that do not fit, ...)


class _Screen:
    """True values at the screening points and the scopes formulas are evaluated in."""

    def __init__(self, model: Model, claim: Claim, uses: Mapping[str, tuple[str, str]], second: Model | None = None):
        from gradcheck.oracles.common import truth_from_jacobian
        from gradcheck.oracles.finite_difference import jacobian
        from gradcheck.points import draw_points

        self.scopes, self.truths = [], []
        rng = np.random.default_rng(7919)
        of = claim.target(model)
        pairs = [(model, p) for p in draw_points(model, N_SCREEN_POINTS, seed=0)]
        if second is not None:  # the second size: a candidate right only by a coincidence of values fails here
            pairs.append((second, draw_points(second, 1, seed=1)[0]))
        for model, point in pairs:
            with np.errstate(all="ignore"):
                values = model.forward(point.values)
            derivs = {}
            for name, (o, w) in uses.items():
                derivs[name] = jacobian(lambda x, o=o, w=w: model.rerun_from(values, w, x)[o],
                                        values[w], rng)[0]
            x0 = np.asarray(values[claim.wrt], dtype=float)
            jac, _, smooth, _ = jacobian(lambda x: model.rerun_from(values, claim.wrt, x)[of], x0, rng)
            lr = values.get(claim.lr) if claim.lr else None
            truth, _ = truth_from_jacobian(claim, jac, np.shape(values[of]), x0.shape, x0, lr,
                                           np.asarray(values[of], dtype=float))
            block = getattr(claim.formula, "block_values", None)  # a code block's names (homework files)
            self.scopes.append({**values, **derivs, **(block(values) if block else {})})
            self.truths.append(np.asarray(truth, dtype=float))

    def value(self, tree: ast.Expression, k: int = 0):
        """The tree's value at point k: interpreted directly (edits only build whitelisted nodes;
        a repair is validated by ``Expression.from_tree`` before it is confirmed)."""
        with np.errstate(all="ignore"):
            return np.asarray(_Interpreter(self.scopes[k], "", False).visit(tree.body), dtype=float)

    def matches(self, value, k: int = 0) -> bool:
        t = self.truths[k]
        c = np.asarray(value, dtype=float)
        if c.shape != t.shape or not np.all(np.isfinite(c)):  # strict shapes: no silent reshaping
            return False
        scale = float(np.max(np.abs(t))) if t.size else 0.0
        return float(np.max(np.abs(c - t))) <= SCREEN_RTOL * scale + 1e-12 if t.size else True


class _Shared:
    """What the candidates of one base tree share: the keys and values of the base tree's nodes.

    An edit copies only the path to the node it changes (:func:`~gradcheck.repair.edits.replaced`);
    every other subtree of a candidate *is* a subtree of the base tree. So a candidate's key and
    value are computed for its new nodes only, the base tree's parts being looked up by identity.
    Only the base tree's nodes are kept, never a candidate's: memory does not grow with the
    candidates, and a node is kept with its entry, so an ``id`` is never reused meanwhile. Measured
    on the report's 37 searches: 5.1 s -> 3.3 s, the same candidates, values and repairs.
    """

    def __init__(self, base: ast.Expression, scope: Mapping[str, Any]):
        self.scope = scope
        self.keys: dict[int, tuple[ast.AST, Any]] = {}
        self.values: dict[int, tuple[ast.AST, Any]] = {}
        tree_key(base, self.keys)
        with np.errstate(all="ignore"):
            try:
                _SharedInterpreter(scope, self.values, record=True).visit(base.body)
            except Exception:  # noqa: BLE001 - the nodes evaluated before the failure are kept
                pass

    def key(self, tree: ast.Expression) -> Any:
        return tree_key(tree, self.keys, keep=False)

    def value(self, tree: ast.Expression):
        """The tree's value in ``scope`` (that of the first screening point, as ``_Screen.value``)."""
        with np.errstate(all="ignore"):
            return np.asarray(_SharedInterpreter(self.scope, self.values, record=False).visit(tree.body),
                              dtype=float)


def tree_key(node: Any, memo: dict, keep: bool = True) -> Any:
    """A hashable key equal for equal trees: node types, fields and constants with their Python type
    (``1``, ``1.0`` and ``True`` differ, as their texts do). ``memo`` holds the keys of known nodes
    (``id`` -> (node, key)); with ``keep`` the keys computed are added to it."""
    if isinstance(node, list):
        return tuple(tree_key(x, memo, keep) for x in node)
    if not isinstance(node, ast.AST):
        return (type(node).__name__, node)
    hit = memo.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    key = (type(node).__name__, *(tree_key(getattr(node, f, None), memo, keep) for f in node._fields))
    if keep:
        memo[id(node)] = (node, key)
    return key


class _SharedInterpreter(_Interpreter):
    """The expression interpreter, taking the base tree's values from ``values`` (see :class:`_Shared`)."""

    def __init__(self, scope: Mapping[str, Any], values: dict, record: bool):
        super().__init__(scope, "", False)
        self._values, self._record = values, record

    def visit(self, node):
        hit = self._values.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        value = super().visit(node)
        if self._record:
            self._values[id(node)] = (node, value)
        return value


def closeness(value, truth: np.ndarray) -> float:
    """Relative residual after the best scalar factor, allowing a transpose or a sum over one axis."""
    if value is None:
        return float("inf")
    c = np.asarray(value, dtype=float)
    variants = [c]
    if c.ndim == 2:
        variants.append(c.T)
    for axis in range(c.ndim):
        variants += [c.sum(axis=axis), c.sum(axis=axis, keepdims=True)]
    tt = float(np.sum(truth * truth))
    best = float("inf")
    for v in variants:
        if v.shape != truth.shape or not np.all(np.isfinite(v)):
            continue
        vv = float(np.sum(v * v))
        if vv == 0 or tt == 0:
            continue
        k = float(np.sum(v * truth)) / vv
        best = min(best, float(np.linalg.norm(k * v - truth)) / np.sqrt(tt))
    return best


# ---------------------------------------------------------------------- context
def _activations(model: Model, scope: Mapping[str, Any]) -> tuple[Activation, ...]:
    """Steps ``a = f(z)`` with f an elementwise activation, found by value at the screening point."""
    tests = {"sigmoid": ops.sigmoid, "tanh": ops.tanh, "relu": ops.relu, "softplus": ops.softplus}
    found = []
    for step in model.step_list:
        reads = [r for r in step.reads if r not in model.dims and r not in model.constants]
        if len(reads) != 1:
            continue
        z, a = np.asarray(scope[reads[0]]), np.asarray(scope[step.name])
        if z.shape != a.shape or z.size == 0 or not np.issubdtype(z.dtype, np.floating):
            continue
        for kind, f in tests.items():
            with np.errstate(all="ignore"):
                fz = np.asarray(f(z), dtype=float)
            if np.allclose(fz, a, rtol=1e-12, atol=1e-12):
                found.append(Activation(kind, reads[0], step.name))
                break
    return tuple(found)


class _Recorder(_Interpreter):
    def __init__(self, scope, shapes):
        super().__init__(scope, "", False)
        self.shapes = shapes

    def visit(self, node):
        out = super().visit(node)
        if not isinstance(out, (tuple, list, str)):
            self.shapes[id(node)] = np.shape(out)
        return out


def node_shapes(tree: ast.Expression, scope: Mapping[str, Any]) -> dict:
    """path -> shape of every site whose value could be computed (the rest are absent)."""
    by_id: dict[int, tuple] = {}
    try:
        with np.errstate(all="ignore"):
            _Recorder(scope, by_id).visit(tree.body)
    except Exception:  # noqa: BLE001 - a clash leaves the later nodes unknown
        pass
    out = {}
    for path, node, _, _ in sites(tree):
        if id(node) in by_id:
            out[path] = by_id[id(node)]
        elif isinstance(node, ast.Name) and node.id in scope:
            out[path] = np.shape(scope[node.id])
    return out


def _context(model: Model, screen: _Screen, uses) -> Context:
    from gradcheck.check import batch_names

    scope = screen.scopes[0]
    name_shapes = {}
    for n in list(model.names) + list(uses):
        if n in scope and n != model.objective:
            name_shapes[n] = np.shape(scope[n])
    for n in list(model.dims) + list(model.constants):
        name_shapes[n] = ()
    batch = tuple(dict.fromkeys(int(model.dims[b]) for b in batch_names(model) if int(model.dims[b]) > 1))
    return Context(name_shapes=name_shapes, dims=dict(model.dims), constants=tuple(model.constants),
                   batch_sizes=batch, activations=_activations(model, scope), derivative_names=tuple(uses))


def _earlier_uses(source, claim: Claim, model: Model, uses) -> dict[str, tuple[str, str]]:
    """Derivative names of the derivation's other claims on the same model (``delta1`` written as
    ``delta3``): candidates for a name replacement, added to the repaired claim's ``uses``."""
    if not isinstance(source, Derivation):
        return {}
    known = set(model.names)
    out = {}
    for other in source.claims:
        if source.model_of(other) is not model:
            continue
        for n, (o, w) in other.uses.items():
            if n not in uses and n not in known and o in known and w in known:
                out.setdefault(n, (o, w))
    return out


# ---------------------------------------------------------------------- search
def find_repair(source: Derivation | Model, claim: Claim, *, max_edits: int = 2, budget: float = 5.0,
                max_candidates: int = 2000, oracles: Iterable[str] | None = None,
                check_options: Mapping[str, dict] | None = None) -> RepairOutcome:
    """The smallest confirmed edit of ``claim``'s formula that makes it correct, or why there is none.

    ``oracles`` / ``check_options`` are passed to ``check_claim`` for the confirmation (default:
    all oracles, as ``check_claim`` itself).
    """
    from gradcheck.check import check_claim
    from gradcheck.oracles import ORACLES

    t0 = time.perf_counter()
    deadline = t0 + budget
    oracles = tuple(ORACLES if oracles is None else oracles)
    if isinstance(source, Derivation):
        model, uses = source.model_of(claim), source.derivative_names(claim)
    else:
        model, uses = claim.model or source, dict(claim.uses)
    extra = _earlier_uses(source, claim, model, uses)
    plan = (SecondSize(None, {}, {}, f"no second size: {claim.fixed_size}") if claim.fixed_size else second_size(model, [claim.source or ""]))
    symbols = dict(getattr(source, "symbols", None) or {})

    def outcome(repair, message, tried=0, confirmations=0):
        return RepairOutcome(repair, message, tried, time.perf_counter() - t0, confirmations)

    try:
        expr = formula_expression(claim)
    except NotSearchable as exc:
        return outcome(None, f"not searchable: {exc}")
    try:
        screen = _Screen(model, claim, {**uses, **extra}, plan.model)
    except Exception as exc:  # noqa: BLE001
        return outcome(None, f"not searchable: the true value could not be computed ({type(exc).__name__}: {exc})")
    ctx = _context(model, screen, {**uses, **extra})
    original = expr.source
    tree = expr.tree

    try:
        v0 = screen.value(tree)
    except Exception:  # noqa: BLE001
        v0 = None
    if v0 is not None and all(screen.matches(screen.value(tree, k), k) for k in range(len(screen.truths))):
        return outcome(None, "the formula is already correct at the screening points: nothing to repair")
    base_score = closeness(v0, screen.truths[0])

    seen = {tree_key(tree, {})}  # candidates' keys (tree_key): equal trees are screened once
    shown: set[str] = {ast.unparse(tree)}  # survivors' texts: equal texts are confirmed once
    state = {"tried": 0, "confirmations": 0, "stopped": ""}
    failed_values: list[np.ndarray] = []

    def over() -> bool:
        if state["tried"] >= max_candidates:
            state["stopped"] = f"candidate cap of {max_candidates} reached"
            return True
        if time.perf_counter() >= deadline:
            state["stopped"] = f"time budget of {budget:g} s used"
            return True
        return False

    def screen_edits(base_tree, prefix: tuple[Edit, ...], out: list, survivors: list) -> bool:
        """Screen the edits of ``base_tree``; False when the budget or cap stopped it."""
        ctx.node_shapes = node_shapes(base_tree, screen.scopes[0])
        shared = _Shared(base_tree, screen.scopes[0])
        for edit in generate(base_tree, ctx):
            if over():
                return False
            key = shared.key(edit.tree)
            if key in seen:
                continue
            seen.add(key)
            state["tried"] += 1
            cand = _Candidate("", edit.tree, prefix + (edit,), len(out))
            try:
                value = shared.value(edit.tree)
            except Exception:  # noqa: BLE001 - shapes that do not fit, bad values: dropped
                value = None
            cand.evaluated = value is not None
            if not prefix:
                cand.score = closeness(value, screen.truths[0])
            if value is not None and screen.matches(value):
                cand.text = ast.unparse(edit.tree)  # written out for survivors only
                if cand.text not in shown:  # not a tree with another's text (the constant -1 and -(1))
                    shown.add(cand.text)
                    cand.value = value  # only survivors keep their value: memory does not grow with the candidates
                    survivors.append(cand)
            out.append(cand)
        return True

    def confirm(survivors: list) -> Repair | None:
        for cand in sorted(survivors, key=lambda c: (len(c.edits), len(c.text), c.order)):
            if time.perf_counter() >= deadline:
                state["stopped"] = state["stopped"] or f"time budget of {budget:g} s used"
                return None
            try:
                if not all(screen.matches(screen.value(cand.tree, k), k) for k in range(1, len(screen.truths))):
                    continue
            except Exception:  # noqa: BLE001
                continue
            if any(v.shape == cand.value.shape and np.allclose(v, cand.value, rtol=1e-12, atol=0)
                   for v in failed_values):
                continue
            cand_expr = Expression.from_tree(cand.tree, where=f"repair of {claim.name}")
            if not plan.available and (set(cand_expr.names) - set(expr.names)) & (set(model.dims) | set(model.constants)):
                continue  # no second size: a dim or constant brought in may fit by chance
            fn = claim.formula.with_expression(cand_expr) if hasattr(claim.formula, "with_expression") \
                else cand_expr.as_function()
            state["confirmations"] += 1
            repaired = claim.with_formula(fn, source=cand.text)
            borrowed = {n: extra[n] for n in fn.names if n in extra}
            if borrowed:  # a derivative name of another claim: the repaired claim uses it too
                repaired = replace(repaired, uses={**claim.uses, **borrowed})
            result = check_claim(source, repaired, oracles=oracles, options=check_options)
            if result.verdict == "correct":
                passed = tuple(o for o, v in result.oracles.items() if v.status == "pass")
                kinds = tuple(e.kind for e in cand.edits)
                shown = describe_repair(claim, model, cand.tree, cand.edits, symbols=symbols,
                                        uses={**uses, **extra})
                return Repair(cand.text, tuple(e.description for e in cand.edits), passed,
                              shown.latex, kinds, original, tuple(borrowed.items()), shown.words,
                              shown.explanation)
            failed_values.append(cand.value)
        return None

    singles: list[_Candidate] = []
    survivors: list[_Candidate] = []
    screen_edits(tree, (), singles, survivors)
    repair = confirm(survivors)
    if repair is None and max_edits >= 2 and not state["stopped"]:
        improved = sorted((c for c in singles if c.score < base_score - 1e-9), key=lambda c: (c.score, c.order))
        clashes = [c for c in singles if not c.evaluated]
        rest = [c for c in singles if c.evaluated and not c.score < base_score - 1e-9]
        pairs: list[_Candidate] = []
        survivors2: list[_Candidate] = []
        for first in improved + clashes + rest:
            if not screen_edits(first.tree, first.edits, pairs, survivors2):
                break
            if survivors2 and first.score < 1e-9:
                break  # a first edit that is right up to a sign/transpose/factor/sum: its fix is found
        repair = confirm(survivors2)
    n = state["tried"]
    if repair is not None:
        return outcome(repair, f"{repair.text} (found after {n} candidates)", n, state["confirmations"])
    edits = f"{max_edits} edit{'s' if max_edits != 1 else ''}"
    why = f" ({state['stopped']})" if state["stopped"] else ""
    return outcome(None, f"no repair within {edits}{why}; {n} candidates tried", n, state["confirmations"])
