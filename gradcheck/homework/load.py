"""Load a homework file (TOML) into a :class:`~gradcheck.claim.Derivation`.

Problems with the model itself (TOML syntax, a missing dim, an unknown or later name in a step,
a shape clash in a step, a loss that is not a scalar) raise :class:`HomeworkError`: nothing can be
checked. Problems with one claim never raise: the claim is built anyway (the engine reports a bad
``wrt``, an unknown name, a shape clash or a NaN as that claim's verdict), or replaced by a
placeholder whose formula raises the specific message, so the other claims are reported normally.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from gradcheck import dimexpr, limits
from gradcheck.claim import KINDS, VERDICTS, Claim, Derivation
from gradcheck.expr import Expression, ExpressionError, parse
from gradcheck.homework import upstream, validate
from gradcheck.homework.code import Block, BlockErrors, parse_block, unknown_names
from gradcheck.homework.lowering import BlockFormula, check_aliasing, lower_forward
from gradcheck.model import DATA_KINDS, Data, Model, ModelError

TOP_KEYS = ("title", "description", "dims", "constants", "data", "params", "forward", "backward", "claims",
            "objective", "sense", "symbolic_dims", "param_scale", "check",  # [check]: settings, see gradcheck.tolerances
            "notation")  # [notation]: LaTeX spellings -> names, see gradcheck.latex.notation
CLAIM_KEYS = ("name", "wrt", "of", "formula", "kind", "layout", "lr", "expect", "reason", "latex", "locator",
              "expect_diagnosis", "convention", "upstream")


class HomeworkError(ModelError):
    """A homework file that cannot be checked at all: names the file, the place and what to do."""


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(str(name), sorted(map(str, known)), n=3)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def load(path: str | Path) -> Derivation:
    """Read, validate and build the derivation of a homework file."""
    try:
        text = validate.read_text(path)
    except validate.FileProblem as exc:
        raise HomeworkError(str(exc)) from None
    return loads(text, name=str(path))


def loads(text: str, *, name: str = "<homework>") -> Derivation:
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark is not TOML
    try:
        validate.check_toml_text(text)
        with limits.deadline(validate.TOML_SECONDS, "reading the TOML file"):
            doc = tomllib.loads(text)
    except validate.FileProblem as exc:
        raise HomeworkError(f"{name}: {exc}") from None
    except (limits.BudgetExceeded, RecursionError) as exc:
        raise HomeworkError(f"{name}: the TOML reader gave up ({exc}); simplify the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise HomeworkError(f"{name}: TOML syntax error: {exc} (fix the file at that line and column)") from None
    return _Builder(doc, name, text).build()


class _Builder:
    def __init__(self, doc: Mapping[str, Any], file: str, text: str = ""):
        self.doc, self.file, self.text = doc, file, text
        self.backward: Block | None = None
        self.helpers: dict = {}
        self.findings: list[str] = []  # notes on claims given both as a formula and as LaTeX

    def fail(self, msg: str) -> HomeworkError:
        return HomeworkError(f"{self.file}: {msg}")

    def table(self, key: str, required: bool = False) -> dict:
        value = self.doc.get(key, None)
        if value is None:
            if required:
                raise self.fail(f"missing [{key}] table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"`{key}` must be a table ([{key}]), got {type(value).__name__}")
        return value

    # ------------------------------------------------------------------ model
    def build(self) -> Derivation:
        try:
            validate.check_document(self.doc)
        except validate.FileProblem as exc:
            raise self.fail(str(exc)) from None
        for key in self.doc:
            if key not in TOP_KEYS:
                raise self.fail(f"unknown top-level key {key!r}{_suggest(key, TOP_KEYS)} "
                                f"(allowed: {', '.join(TOP_KEYS)})")
        title = str(self.doc.get("title", Path(self.file).stem))
        dims = self._dims()
        constants = self._constants(dims)
        data = self._data(dims)
        params = self._params(dims)
        for name in params:
            if name in data:
                raise self.fail(f"{name!r} is both [data] and [params]; rename one")
        objective = str(self.doc.get("objective", "loss"))
        upstreams = self._upstreams()
        raw_claims = self.doc.get("claims", [])
        only_upstream = bool(upstreams) and all(isinstance(c, dict) and "upstream" in c for c in raw_claims)
        try:
            if "code" in self.table("forward", required=True):
                steps, exprs = self._code_steps(dims, constants, data, params, objective, only_upstream)
            else:
                steps, exprs = self._steps(dims, constants, data, params, objective, only_upstream)
        except HomeworkError as exc:  # report the other parts' problems in the same run
            raise HomeworkError("\n".join([str(exc)] + self._syntax_problems())) from None
        symbolic_dims = self.table("symbolic_dims") or None

        def make_model(steps, data, objective):
            try:
                return Model(title, dims, steps, data=data, params=params, constants=constants, objective=objective,
                             sense=str(self.doc.get("sense", "minimise")), symbolic_dims=symbolic_dims,
                             param_scale=float(self.doc.get("param_scale", 1.0)))
            except ModelError as exc:
                raise self.fail(str(exc)) from None

        names = [n for n, _ in steps]
        if upstreams:
            first = make_model(steps, data, objective if objective in names else names[-1])
            data, steps = self._add_upstreams(first, upstreams, data, steps)
            if objective not in names:
                objective = upstream.vjp_name(*next(iter(upstreams.items())))
        model = make_model(steps, data, objective)
        self._trace(model, exprs)
        if getattr(self, "forward_block", None) is not None:
            self._check_aliasing(model)
        if "backward" in self.doc:
            self._backward(model)
        claims, uses = self._claims(model)
        return Derivation(id=Path(self.file).stem, title=title, source=Path(self.file).name, model=model,
                          claims=tuple(claims), description=str(self.doc.get("description", "")), uses={},
                          findings=tuple(self.findings))

    def _dims(self) -> dict[str, int]:
        dims = self.table("dims")
        out = {}
        for k, v in dims.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise self.fail(f"dim {k!r} must be a positive integer, got {v!r}")
            out[k] = v
        return out

    def _constants(self, dims) -> dict[str, float]:
        out = {}
        for k, v in self.table("constants").items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise self.fail(f"constant {k!r} must be a number, got {v!r}")
            if k in dims:
                raise self.fail(f"{k!r} is both a dim and a constant; rename one")
            out[k] = float(v)
        return out

    def _shape(self, what: str, shape, dims) -> tuple:
        if not isinstance(shape, list):
            raise self.fail(f"{what}: shape must be a list of dim names or integers, e.g. [\"m\", \"d\"]; "
                            f"got {shape!r}")
        out = []
        for s in shape:
            if isinstance(s, str):
                try:
                    used = dimexpr.names(s)
                except dimexpr.DimError as exc:
                    raise self.fail(f"{what}: {exc}") from None
                for d in used:
                    if d not in dims:
                        raise self.fail(f"{what}: shape {shape} uses dim {d!r}, which is not in [dims]"
                                        f"{_suggest(d, dims)} (add `{d} = <size>` to [dims])")
                out.append(s)
            elif isinstance(s, int) and not isinstance(s, bool) and s >= 1:
                out.append(s)
            else:
                raise self.fail(f"{what}: shape entry {s!r} is neither a dim name nor a positive integer")
        return tuple(out)

    def _data(self, dims) -> dict[str, Data]:
        out = {}
        for name, spec in self.table("data").items():
            what = f"data {name!r}"
            if isinstance(spec, list):
                out[name] = Data(self._shape(what, spec, dims))
                continue
            if not isinstance(spec, dict):
                raise self.fail(f"{what}: write {{ shape = [...], kind = \"real\" }} or a shape list")
            for k in spec:
                if k not in ("shape", "kind", "value", "classes"):
                    raise self.fail(f"{what}: unknown key {k!r}{_suggest(k, ('shape', 'kind', 'value', 'classes'))}")
            kind = spec.get("kind", "real")
            if kind not in DATA_KINDS:
                raise self.fail(f"{what}: kind {kind!r} is not one of {', '.join(DATA_KINDS)}{_suggest(kind, DATA_KINDS)}")
            value = spec.get("value")
            if value is not None:
                try:
                    value = np.asarray(value, dtype=float)
                except (TypeError, ValueError):
                    raise self.fail(f"{what}: value must be a (nested) list of numbers of equal lengths") from None
            if "shape" in spec:
                shape = self._shape(what, spec["shape"], dims)
                self._size(what, shape, dims)
            elif value is not None:
                shape = value.shape
            else:
                raise self.fail(f"{what}: needs a shape (or a literal value)")
            if value is not None:
                resolved = tuple(dims[s] if isinstance(s, str) else s for s in shape)
                if value.shape != resolved:
                    raise self.fail(f"{what}: the literal value has shape {value.shape}, but the shape "
                                    f"{list(shape)} is {resolved}")
            classes = spec.get("classes")
            if kind == "labels" and value is None:
                if classes is None:
                    raise self.fail(f"{what}: labels need classes = \"C\" (the dim that counts the classes)")
                if isinstance(classes, str):
                    if classes not in dims:
                        raise self.fail(f"{what}: classes {classes!r} is not in [dims]{_suggest(classes, dims)}")
                elif isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
                    raise self.fail(f"{what}: classes must be a dim name or a positive integer, got {classes!r}")
            out[name] = Data(shape, kind=kind, value=value, classes=classes)
        return out

    def _params(self, dims) -> dict[str, tuple]:
        out = {}
        for name, shape in self.table("params").items():
            if isinstance(shape, dict) and "shape" in shape:
                shape = shape["shape"]
            out[name] = self._shape(f"param {name!r}", shape, dims)
            self._size(f"param {name!r}", out[name], dims)
        return out

    # ------------------------------------------------------------------ code blocks and upstream claims
    def _block_line(self, table: str) -> int:
        """Lines before the first line of ``[table] code = '''...'''`` in the file (0 if not found)."""
        lines = self.text.splitlines()
        start = next((i for i, ln in enumerate(lines) if ln.strip().startswith(f"[{table}]")), None)
        if start is None:
            return 0
        for i in range(start + 1, len(lines)):
            stripped = lines[i].strip()
            if stripped.startswith("code"):
                rest = stripped.split("=", 1)[1].strip() if "=" in stripped else ""
                return i + 1 if rest in ("'''", '"""') else i  # the string starts on the next line
            if stripped.startswith("["):
                break
        return 0

    def _parse_block(self, table: str) -> Block:
        spec = self.table(table)
        extra = [k for k in spec if k != "code"]
        if extra:
            raise self.fail(f"[{table}] with `code` takes no other keys (found {', '.join(extra)}); write every "
                            "statement inside the code block")
        if not isinstance(spec["code"], str):
            raise self.fail(f"[{table}] code must be a string: code = '''...'''")
        try:
            return parse_block(spec["code"], where=f"{self.file}: [{table}] code", line_offset=self._block_line(table))
        except BlockErrors as exc:
            raise HomeworkError(str(exc)) from None

    def _in_file(self, exc: ExpressionError, table: str, key: str, nth: int = 0) -> str:
        """The error with the line and column in the FILE of a one-line string value ``key = "..."``."""
        pos = _value_position(self.text, table, key, nth)
        if pos is None or exc.line != 1 or exc.column is None:
            return str(exc)
        line, col = pos
        return str(ExpressionError(exc.reason, where=exc.where, line=line, column=col + exc.column - 1,
                                   construct=exc.construct))

    def _syntax_problems(self) -> list[str]:
        """Problems of the backward block and the claim formulas that need no model to find."""
        out = []
        if isinstance(self.doc.get("backward"), dict) and isinstance(self.doc["backward"].get("code"), str):
            try:
                self._parse_block("backward")
            except HomeworkError as exc:
                out.append(str(exc))
        for i, spec in enumerate(self.doc.get("claims", []) if isinstance(self.doc.get("claims"), list) else []):
            if isinstance(spec, dict) and isinstance(spec.get("formula"), str):
                try:
                    parse(spec["formula"], where=f"{self.file}: claim {spec.get('name', i + 1)!r}")
                except ExpressionError as exc:
                    out.append(self._in_file(exc, "[[claims]]", "formula", i))
        return out

    def _code_steps(self, dims, constants, data, params, objective, only_upstream):
        block = self._parse_block("forward")
        inputs = set(dims) | set(constants) | set(data) | set(params)
        errors = unknown_names(block, inputs)
        if errors:
            raise HomeworkError("\n".join(map(str, errors)))
        self.helpers = dict(block.helpers)
        self.forward_block = block
        steps = lower_forward(block, inputs)
        if objective not in [n for n, _ in steps] and not only_upstream:
            raise self.fail(f"the [forward] code never assigns {objective!r}: end it with `{objective} = ...` "
                            f"(a scalar){_suggest(objective, block.assigned)}")
        return steps, {}

    def _check_aliasing(self, model: Model) -> None:
        from gradcheck.oracles.common import traced
        from gradcheck.points import _candidate

        values = traced(model.scope(_candidate(model, np.random.default_rng(0), model.dims)))
        try:
            with np.errstate(all="ignore"):
                check_aliasing(self.forward_block, values)
        except ExpressionError as exc:
            raise HomeworkError(str(exc)) from None

    def _upstreams(self) -> dict[str, str]:
        """upstream name -> the step it is the gradient of (one per name, from the claims)."""
        out: dict[str, str] = {}
        for spec in self.doc.get("claims", []) if isinstance(self.doc.get("claims"), list) else []:
            if not isinstance(spec, dict) or "upstream" not in spec:
                continue
            u, of = spec.get("upstream"), spec.get("of")
            if not isinstance(u, str) or not u.isidentifier():
                raise self.fail(f"claim {spec.get('name')!r}: upstream must be a name, e.g. upstream = \"dout\"")
            if not isinstance(of, str):
                raise self.fail(f"claim {spec.get('name')!r}: an upstream claim needs `of`, the step whose gradient "
                                f"{u!r} is (e.g. of = \"out\")")
            if out.get(u, of) != of:
                raise self.fail(f"upstream {u!r} is used for both {out[u]!r} and {of!r}; use one name per step "
                                "(e.g. dout and dh)")
            out[u] = of
        return out

    def _add_upstreams(self, model: Model, upstreams: Mapping[str, str], data, steps):
        data, steps = dict(data), list(steps)
        for u, of in upstreams.items():
            if of not in [n for n, _ in steps]:
                raise self.fail(f"upstream {u!r}: `of` {of!r} is not a step{_suggest(of, [n for n, _ in steps])}")
            if u not in data:
                if u in model.params or u in model.dims or u in model.constants or u in [n for n, _ in steps]:
                    raise self.fail(f"upstream {u!r} is already a name of the model; rename it")
                try:
                    data[u] = Data(upstream.infer_shape(model, of))
                except ModelError as exc:
                    raise self.fail(f"upstream {u!r}: {exc}; declare it under [data] with the shape of {of!r}, e.g. "
                                    f"{u} = {{ shape = [...] }}") from None
            steps.append((upstream.vjp_name(u, of), upstream.vjp_step(u, of)))
        return data, steps

    def _backward(self, model: Model) -> None:
        block = self._parse_block("backward")
        vocabulary = {n for n in model.names if "__" not in n and "·" not in n} | set(model.dims) | set(model.constants)
        errors = unknown_names(block, vocabulary, self.helpers)
        if errors:
            raise HomeworkError("\n".join(map(str, errors)))
        self.backward = block
        self.backward_reads = tuple(n for n in block.loads() if n in vocabulary)

    def _size(self, what: str, shape: tuple, dims) -> None:
        try:
            validate.check_shape_size(what, shape, dims)
        except validate.FileProblem as exc:
            raise self.fail(str(exc)) from None

    def _steps(self, dims, constants, data, params, objective, only_upstream=False):
        forward = self.table("forward", required=True)
        inputs = set(dims) | set(constants) | set(data) | set(params)
        order = list(forward)
        known = set(inputs)
        steps, exprs, problems = [], {}, []  # every step's problem is reported, not only the first
        for pos, (name, text) in enumerate(forward.items()):
            where = f"{self.file}: step {name!r}"
            known.add(name)
            if name in inputs:
                problems.append(f"{where}: redefines a dim, constant, data or param of the same name; rename it")
                continue
            if not isinstance(text, str):
                problems.append(f"{where}: must be an expression string, e.g. {name} = \"X @ W + b\"")
                continue
            try:
                expr = parse(text, where=where)
            except ExpressionError as exc:
                problems.append(self._in_file(exc, "[forward]", name))
                continue
            for r in expr.names:
                if r in known - {name}:
                    continue
                if r == name:
                    problems.append(f"{where}: uses itself ({r!r}); a step may only use earlier steps, "
                                    "data, params, dims and constants")
                elif r in order[pos + 1:]:
                    problems.append(f"{where}: uses {r!r}, which is defined later; steps run in order, "
                                    f"so move {r!r} above {name!r}")
                else:
                    problems.append(f"{where}: unknown name {r!r}{_suggest(r, (known | set(order)) - {name})}")
                break
            steps.append((name, expr.as_function(expr.names)))
            exprs[name] = expr
        if problems:
            raise HomeworkError("\n".join(problems))
        if objective not in forward and not only_upstream:
            raise self.fail(f"[forward] has no step {objective!r}: the last step should be `{objective} = \"...\"` "
                            f"(a scalar){_suggest(objective, forward)}")
        return steps, exprs

    def _trace(self, model: Model, exprs: Mapping[str, Expression]) -> None:
        """Evaluate every step once on shape-tracing arrays: clashes and a non-scalar loss are named."""
        from gradcheck.oracles.common import ShapeClash, traced
        from gradcheck.points import _candidate

        rng = np.random.default_rng(0)
        try:
            values = _candidate(model, rng, model.dims)
        except ModelError as exc:
            raise self.fail(str(exc)) from None
        scope = traced(model.scope(values))
        with np.errstate(all="ignore"):
            for step in model.step_list:
                shown = exprs[step.name].source if step.name in exprs else repr(step.fn)
                where = f"step {step.name!r} ({shown})"
                try:
                    scope[step.name] = step.fn(*[scope[r] for r in step.reads])
                except ShapeClash as exc:
                    raise self.fail(f"{where}: {exc}; shapes: "
                                    + ", ".join(f"{r} {np.shape(scope[r])}" for r in step.reads
                                                if r not in model.dims and r not in model.constants)) from None
                except ExpressionError as exc:
                    raise HomeworkError(f"{self.file}: {exc}") from None
                except Exception as exc:  # noqa: BLE001
                    raise self.fail(f"{where} cannot be evaluated: {type(exc).__name__}: {exc}") from None
        shape = np.shape(scope[model.objective])
        if shape != ():
            raise self.fail(f"the loss {model.objective!r} has shape {shape}, but must be a scalar; "
                            f"reduce it, e.g. sum(...) or mean(...)")

    # ------------------------------------------------------------------ claims
    def _claims(self, model: Model):
        raw = self.doc.get("claims", [])
        if not isinstance(raw, list):
            raise self.fail("claims must be an array of tables: write each as [[claims]]")
        claims: list[Claim] = []
        uses: dict[str, tuple[str, str]] = {}
        broken: set[str] = set()
        model_names = set(model.names) | set(model.dims) | set(model.constants)
        all_names = [c.get("name") for c in raw if isinstance(c, dict)]
        for i, spec in enumerate(raw):
            name = str(spec.get("name", f"claim{i + 1}")) if isinstance(spec, dict) else f"claim{i + 1}"
            from_latex = _latex_claims(self, spec, name, model, uses, i)
            if from_latex is not None and "formula" not in spec:
                new = from_latex
            else:
                try:
                    new = [self._claim(i, spec, name, model, model_names, uses, all_names, broken)]
                    if from_latex is not None:  # both: the LaTeX is checked against the formula
                        extra, notes = _latex_against_formula(new[0], from_latex, model, uses)
                        new += extra
                        self.findings += notes
                except ModelError as exc:
                    prefix = f"{self.file}: claim {name!r}: "
                    msg = str(exc)
                    new = [_placeholder(name, spec if isinstance(spec, dict) else {}, model,
                                        prefix + (msg[len(prefix):] if msg.startswith(prefix) else msg))]
            for claim in new:
                claims.append(claim)
                placeholder = getattr(claim, "_placeholder", False)
                if placeholder and not getattr(claim, "_wrt_known", False):
                    broken.add(claim.name)  # no derivative to stand for: later claims are told why
                elif claim.name not in uses and claim.name not in model_names:
                    # a claim that failed to parse still names its TRUE derivative for later claims
                    uses[claim.name] = (claim.target(model), claim.wrt)
        names = [c.name for c in claims]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise self.fail(f"claim name(s) {', '.join(sorted(dup))} used more than once; claim names must be unique")
        return claims, uses

    def _claim(self, i, spec, name, model, model_names, uses, all_names, broken=frozenset()) -> Claim:
        where = f"claim {name!r}"
        if not isinstance(spec, dict):
            raise ModelError("each claim must be a table ([[claims]] with name, wrt, formula)")
        problem = validate.claim_problem(spec)
        if problem:
            raise ModelError(problem)
        for k in spec:
            if k not in CLAIM_KEYS:
                raise ModelError(f"unknown key {k!r}{_suggest(k, CLAIM_KEYS)} (allowed: {', '.join(CLAIM_KEYS)})")
        for k in ("wrt", "formula"):
            if k not in spec and not (k == "formula" and "latex" in spec):
                raise ModelError(f"missing `{k}`")
            if not isinstance(spec[k], str):
                raise ModelError(f"`{k}` must be a string")
        if name in model_names:
            raise ModelError(f"the claim name {name!r} is already a name of the model; rename the claim "
                             f"(e.g. d{name})")
        kind = spec.get("kind", "gradient")
        if kind not in KINDS:
            raise ModelError(f"kind {kind!r} is not one of {', '.join(KINDS)}{_suggest(kind, KINDS)}")
        expect = spec.get("expect")
        if expect is not None and expect not in VERDICTS:
            raise ModelError(f"expect {expect!r} is not one of {', '.join(VERDICTS)}{_suggest(expect, VERDICTS)}")
        try:
            expr = parse(spec["formula"], where=f"{self.file}: {where}")
        except ExpressionError as exc:
            raise ModelError(self._in_file(exc, "[[claims]]", "formula", i)) from None
        block_names = set(self.backward.assigned) if self.backward else set()
        claim_uses = {}
        for r in expr.names:
            if r in model_names or r in block_names:
                continue
            if r in uses:
                claim_uses[r] = uses[r]
            elif r in broken:
                raise ModelError(f"the formula uses claim {r!r}, whose `wrt` is not a quantity of the model, so "
                                 f"it names no derivative; fix claim {r!r} first")
            elif r == name:
                raise ModelError(f"the formula uses the claim itself ({r!r})")
            elif r in all_names[i + 1:]:
                raise ModelError(f"the formula uses claim {r!r}, which comes later; a claim may only use "
                                 f"earlier claims (move {r!r} above {name!r})")
            # otherwise: the engine reports the unknown name with suggestions
        of = spec.get("of")
        if "upstream" in spec:
            if kind != "gradient":
                raise ModelError(f"an upstream claim is a vector-Jacobian product (the kind gradient), not {kind!r}")
            of = upstream.vjp_name(spec["upstream"], of)
        formula = expr.as_function(expr.names)
        if block_names & set(expr.names):
            reads = tuple(dict.fromkeys(self.backward_reads + tuple(n for n in expr.names if n not in block_names)))
            formula = BlockFormula(self.backward, expr, reads, self.helpers)
        return Claim(name, spec["wrt"], formula, of=of, latex=str(spec.get("latex", "")),
                     locator=str(spec.get("locator", f"{Path(self.file).name}, claim {i + 1}")), kind=kind,
                     layout=spec.get("layout", "numerator"), convention=str(spec.get("convention", "")),
                     expect=expect, reason=str(spec.get("reason", "")),
                     expect_diagnosis=spec.get("expect_diagnosis"), uses=claim_uses, lr=spec.get("lr"),
                     source=expr.source)


def _value_position(text: str, table: str, key: str, nth: int = 0) -> tuple[int, int] | None:
    """(line, column) in the file of the first character inside the quotes of ``key = "..."`` in the
    ``nth`` table headed ``table`` (``[forward]`` or ``[[claims]]``); None if not found."""
    lines = text.splitlines()
    headers = [i for i, ln in enumerate(lines) if ln.strip().startswith(table)]
    if nth >= len(headers):
        return None
    for i in range(headers[nth] + 1, len(lines)):
        stripped = lines[i].lstrip()
        if stripped.startswith("["):
            return None
        head, sep, rest = lines[i].partition("=")
        if sep and head.strip() == key:
            offset = len(head) + 1 + (len(rest) - len(rest.lstrip()))
            if rest.lstrip()[:1] in ("\"", "'") and rest.lstrip()[:3] not in ('"""', "'''"):
                return i + 1, offset + 2
            return None
    return None


def _latex_claims(builder: _Builder, spec, name: str, model: Model, uses, index: int):
    """The claims of a ``latex`` key (:mod:`gradcheck.latex`), or None when the claim has none."""
    if not isinstance(spec, dict) or not isinstance(spec.get("latex"), str) or not spec["latex"].strip():
        return None
    from gradcheck.expr import FUNCTIONS
    from gradcheck.latex.claims import claims_from_toml
    from gradcheck.latex.grammar import LatexError
    from gradcheck.latex.notation import check_notation, notation_from_table

    try:
        notation = notation_from_table(builder.table("notation"), FUNCTIONS, f"{builder.file}: [notation]")
        check_notation(notation, set(model.names) | set(model.dims) | set(model.constants) | set(uses)
                       | {c.get("name") for c in builder.doc.get("claims", []) if isinstance(c, dict)},
                       f"{builder.file}: [notation]")
    except LatexError as exc:
        raise HomeworkError(str(exc)) from None
    return claims_from_toml(spec, name, model, notation, uses, file=builder.file, index=index)


def _latex_against_formula(formula_claim: Claim, latex_claims, model: Model, uses):
    """(claims to check as well, findings): LaTeX steps that differ from the formula become claims."""
    from gradcheck.latex.claims import against_formula

    return against_formula(formula_claim, latex_claims, model, uses)


class _Raiser:
    """A formula with no arguments that raises the loader's message when evaluated."""

    def __init__(self, message: str):
        self.message = message
        self.__name__ = "invalid_claim"

    def __call__(self):
        raise ExpressionError(self.message)

    def __repr__(self):
        return "<invalid claim>"


def _placeholder(name: str, spec: Mapping, model: Model, message: str) -> Claim:
    """A claim that is reported as ``not evaluable`` with ``message`` (valid wrt when possible)."""
    wrt = spec.get("wrt") if isinstance(spec.get("wrt"), str) and spec.get("wrt") in model.names else None
    of = spec.get("of") if isinstance(spec.get("of"), str) and spec.get("of") in model.names else None
    expect = spec.get("expect") if spec.get("expect") in VERDICTS else None
    claim = Claim(name, wrt or model.objective, _Raiser(message), of=of if wrt else None, expect=expect,
                  reason=str(spec.get("reason", "")), source=str(spec.get("formula", "")),
                  latex=str(spec.get("latex", "")))
    object.__setattr__(claim, "_placeholder", True)
    object.__setattr__(claim, "_wrt_known", wrt is not None and (of is not None or not spec.get("of")))
    return claim
