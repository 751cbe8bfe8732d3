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

from gradcheck.claim import KINDS, VERDICTS, Claim, Derivation
from gradcheck.expr import Expression, ExpressionError, parse
from gradcheck.model import DATA_KINDS, Data, Model, ModelError

TOP_KEYS = ("title", "description", "dims", "constants", "data", "params", "forward", "claims", "objective",
            "sense", "symbolic_dims", "param_scale", "check")  # [check]: settings, see gradcheck.tolerances
CLAIM_KEYS = ("name", "wrt", "of", "formula", "kind", "layout", "lr", "expect", "reason", "latex", "locator",
              "expect_diagnosis", "convention")


class HomeworkError(ModelError):
    """A homework file that cannot be checked at all: names the file, the place and what to do."""


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, sorted(map(str, known)), n=3)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def load(path: str | Path) -> Derivation:
    """Read, validate and build the derivation of a homework file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HomeworkError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HomeworkError(f"{path}: cannot read the file: {exc}") from None
    return loads(text, name=str(path))


def loads(text: str, *, name: str = "<homework>") -> Derivation:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HomeworkError(f"{name}: TOML syntax error: {exc} (fix the file at that line and column)") from None
    return _Builder(doc, name).build()


class _Builder:
    def __init__(self, doc: Mapping[str, Any], file: str):
        self.doc, self.file = doc, file

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
        steps, exprs = self._steps(dims, constants, data, params, objective)
        symbolic_dims = self.table("symbolic_dims") or None
        try:
            model = Model(title, dims, steps, data=data, params=params, constants=constants, objective=objective,
                          sense=str(self.doc.get("sense", "minimise")), symbolic_dims=symbolic_dims,
                          param_scale=float(self.doc.get("param_scale", 1.0)))
        except ModelError as exc:
            raise self.fail(str(exc)) from None
        self._trace(model, exprs)
        claims, uses = self._claims(model)
        return Derivation(id=Path(self.file).stem, title=title, source=Path(self.file).name, model=model,
                          claims=tuple(claims), description=str(self.doc.get("description", "")), uses={})

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
                if s not in dims:
                    raise self.fail(f"{what}: shape {shape} uses dim {s!r}, which is not in [dims]"
                                    f"{_suggest(s, dims)} (add `{s} = <size>` to [dims])")
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
                if k not in ("shape", "kind", "value"):
                    raise self.fail(f"{what}: unknown key {k!r}{_suggest(k, ('shape', 'kind', 'value'))}")
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
            elif value is not None:
                shape = value.shape
            else:
                raise self.fail(f"{what}: needs a shape (or a literal value)")
            if value is not None:
                resolved = tuple(dims[s] if isinstance(s, str) else s for s in shape)
                if value.shape != resolved:
                    raise self.fail(f"{what}: the literal value has shape {value.shape}, but the shape "
                                    f"{list(shape)} is {resolved}")
            out[name] = Data(shape, kind=kind, value=value)
        return out

    def _params(self, dims) -> dict[str, tuple]:
        out = {}
        for name, shape in self.table("params").items():
            if isinstance(shape, dict) and "shape" in shape:
                shape = shape["shape"]
            out[name] = self._shape(f"param {name!r}", shape, dims)
        return out

    def _steps(self, dims, constants, data, params, objective):
        forward = self.table("forward", required=True)
        inputs = set(dims) | set(constants) | set(data) | set(params)
        order = list(forward)
        known = set(inputs)
        steps, exprs = [], {}
        for pos, (name, text) in enumerate(forward.items()):
            where = f"{self.file}: step {name!r}"
            if name in inputs:
                raise self.fail(f"step {name!r} redefines a dim, constant, data or param of the same name; rename it")
            if not isinstance(text, str):
                raise self.fail(f"step {name!r} must be an expression string, e.g. {name} = \"X @ W + b\"")
            try:
                expr = parse(text, where=where)
            except ExpressionError as exc:
                raise HomeworkError(str(exc)) from None
            for r in expr.names:
                if r in known:
                    continue
                if r == name:
                    raise HomeworkError(f"{where}: uses itself ({r!r}); a step may only use earlier steps, "
                                        "data, params, dims and constants")
                if r in order[pos + 1:]:
                    raise HomeworkError(f"{where}: uses {r!r}, which is defined later; steps run in order, "
                                        f"so move {r!r} above {name!r}")
                raise HomeworkError(f"{where}: unknown name {r!r}{_suggest(r, known)}")
            known.add(name)
            steps.append((name, expr.as_function(expr.names)))
            exprs[name] = expr
        if objective not in forward:
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
                where = f"step {step.name!r} ({exprs[step.name].source})"
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
            try:
                claim = self._claim(i, spec, name, model, model_names, uses, all_names, broken)
            except ModelError as exc:
                prefix = f"{self.file}: claim {name!r}: "
                msg = str(exc)
                claim = _placeholder(name, spec if isinstance(spec, dict) else {}, model,
                                     prefix + (msg[len(prefix):] if msg.startswith(prefix) else msg))
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
        for k in spec:
            if k not in CLAIM_KEYS:
                raise ModelError(f"unknown key {k!r}{_suggest(k, CLAIM_KEYS)} (allowed: {', '.join(CLAIM_KEYS)})")
        for k in ("wrt", "formula"):
            if k not in spec:
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
        expr = parse(spec["formula"], where=f"{self.file}: {where}")
        claim_uses = {}
        for r in expr.names:
            if r in model_names:
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
        return Claim(name, spec["wrt"], expr.as_function(expr.names), of=of, latex=str(spec.get("latex", "")),
                     locator=str(spec.get("locator", f"{Path(self.file).name}, claim {i + 1}")), kind=kind,
                     layout=spec.get("layout", "numerator"), convention=str(spec.get("convention", "")),
                     expect=expect, reason=str(spec.get("reason", "")),
                     expect_diagnosis=spec.get("expect_diagnosis"), uses=claim_uses, lr=spec.get("lr"),
                     source=expr.source)


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
