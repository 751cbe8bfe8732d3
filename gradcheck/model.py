"""Models: a forward computation as a sequence of named steps.

A step is a plain function whose *parameter names* are the names of the quantities it reads::

    Model(
        name="2-layer tanh / softmax",
        dims={"m": 3, "d": 2, "h": 5, "c": 2},
        data={"x": Data(("m", "d")), "y": Data(("m", "c"), kind="one_hot")},
        params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "c"), "b2": ("c",)},
        steps=[
            ("z1", lambda x, W1, b1: x @ W1 + b1),
            ("a1", lambda z1: tanh(z1)),
            ("z2", lambda a1, W2, b2: a1 @ W2 + b2),
            ("p", lambda z2: softmax(z2, axis=1)),
            ("loss", lambda y, p: -sum(y * log(p)) / 3),
        ],
    )

Parameter names may also be dims and constants. Because steps only use the operators and
:mod:`gradcheck.ops`, the same model runs on numpy, JAX and SymPy values.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from gradcheck import dimexpr

DATA_KINDS = ("real", "one_hot", "binary", "positive", "probability", "labels", "symmetric", "spd")


class ModelError(ValueError):
    """A model that cannot be built or evaluated as written."""


@dataclass(frozen=True)
class Data:
    """An input that is not differentiated by default (features, labels)."""

    shape: tuple = ()
    kind: str = "real"
    value: Any = None  # a literal value instead of a random draw
    classes: str | int | None = None  # labels: the number of classes (a dim name or an integer)

    def __post_init__(self):
        if self.kind not in DATA_KINDS:
            raise ModelError(f"data kind {self.kind!r} is not one of {', '.join(DATA_KINDS)}")
        if self.kind == "labels" and self.classes is None and self.value is None:
            raise ModelError("data of kind \"labels\" needs classes = \"C\" (a dim name or an integer)")


def arg_names(fn: Callable) -> tuple[str, ...]:
    """The names a step or formula reads: its positional parameter names."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"cannot read the parameter names of {fn!r}") from exc
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ModelError(f"{fn!r}: *args/**kwargs cannot name quantities")
        names.append(p.name)
    return tuple(names)


@dataclass(frozen=True)
class Step:
    name: str
    fn: Callable
    reads: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Model:
    """A forward computation with named inputs, parameters and steps; ``objective`` is scalar.

    ``sense`` is "minimise" for a loss and "maximise" for a log-likelihood written as the thing
    differentiated; claims are always judged against the model's own ``objective``.
    ``symbolic_dims`` optionally overrides dims for the symbolic oracle (small widths).
    ``second_dims`` / ``fixed_size``: the second size every verdict must also hold at (see
    :mod:`gradcheck.sizes`), given explicitly when dims are related, or why there is none.
    """

    name: str
    dims: Mapping[str, int]
    steps: Sequence[tuple[str, Callable]]
    data: Mapping[str, Data] = field(default_factory=dict)
    params: Mapping[str, tuple] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    objective: str = "loss"
    sense: str = "minimise"
    symbolic_dims: Mapping[str, int] | None = None
    param_scale: float = 1.0
    second_dims: Mapping[str, int] | None = None  # the second size, when the dims are related (D1 = D + 1)
    fixed_size: str = ""  # why the model has no second size (a document written for one network size)

    def __post_init__(self):
        object.__setattr__(self, "data", {k: (v if isinstance(v, Data) else Data(tuple(v)))
                                          for k, v in dict(self.data).items()})
        object.__setattr__(self, "params", {k: tuple(v) for k, v in dict(self.params).items()})
        object.__setattr__(self, "dims", dict(self.dims))
        object.__setattr__(self, "constants", dict(self.constants))
        compiled = tuple(Step(n, f, arg_names(f)) for n, f in self.steps)
        object.__setattr__(self, "_steps", compiled)
        self._validate()

    # ----------------------------------------------------------------- structure
    @property
    def step_list(self) -> tuple[Step, ...]:
        return self._steps  # type: ignore[attr-defined]

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.data) + tuple(self.params)

    @property
    def names(self) -> tuple[str, ...]:
        return self.inputs + tuple(s.name for s in self.step_list)

    def _validate(self) -> None:
        known = set(self.inputs) | set(self.dims) | set(self.constants)
        seen: set[str] = set()
        for name in self.inputs:
            if name in seen:
                raise ModelError(f"{self.name}: {name!r} is defined twice")
            seen.add(name)
        for pos, step in enumerate(self.step_list):
            if step.name in known:
                raise ModelError(f"{self.name}: step {step.name!r} redefines an input, dim or constant")
            for r in step.reads:
                if r not in known:
                    later = [s.name for s in self.step_list[pos:]]
                    hint = (" (it is defined later: steps run in order)" if r in later
                            else _suggest(r, known))
                    raise ModelError(f"{self.name}: step {step.name!r} reads unknown name {r!r}{hint}")
            known.add(step.name)
        if self.objective not in known:
            raise ModelError(f"{self.name}: objective {self.objective!r} is not a step")
        if self.sense not in ("minimise", "maximise"):
            raise ModelError(f"{self.name}: sense must be 'minimise' or 'maximise'")
        for shape in [d.shape for d in self.data.values()] + list(self.params.values()):
            for s in shape:
                if not isinstance(s, str) or s in self.dims:  # a dim's own name may be any string
                    continue
                try:
                    used = dimexpr.names(s)
                except dimexpr.DimError as exc:
                    raise ModelError(f"{self.name}: {exc}") from None
                for d in used:
                    if d not in self.dims:
                        raise ModelError(f"{self.name}: shape {shape} uses dim {d!r}, which is not in dims"
                                         f" ({', '.join(self.dims) or 'none'})")

    def shape_of(self, name: str, dims: Mapping[str, int] | None = None) -> tuple[int, ...]:
        """The shape of an input, with its dims resolved."""
        dims = self.dims if dims is None else dims
        shape = self.data[name].shape if name in self.data else self.params[name]
        return tuple(dimexpr.value(s, dims) if isinstance(s, str) else int(s) for s in shape)

    def downstream(self, wrt: str) -> set[str]:
        """Names of the steps whose value depends on ``wrt`` (directly or through other steps)."""
        dep = {wrt}
        for step in self.step_list:
            if step.name != wrt and any(r in dep for r in step.reads):
                dep.add(step.name)
        dep.discard(wrt)
        return dep

    def with_dims(self, dims: Mapping[str, int]) -> "Model":
        """The same model at other dimensions."""
        return Model(self.name, {**self.dims, **dims}, self.steps, self.data, self.params,
                     self.constants, self.objective, self.sense, self.symbolic_dims, self.param_scale,
                     self.second_dims, self.fixed_size)

    # ----------------------------------------------------------------- evaluation
    def scope(self, point: Mapping[str, Any], dims: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Dims and constants, then the point's values: what steps and formulas may read."""
        return {**(self.dims if dims is None else dims), **self.constants, **point}

    def forward(self, point: Mapping[str, Any], dims: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Run every step; returns all values (inputs, dims, constants and steps) by name."""
        values = self.scope(point, dims)
        for step in self.step_list:
            values[step.name] = call_step(step, values, self.name)
        return values

    def rerun_from(self, values: Mapping[str, Any], wrt: str, new_value: Any) -> dict[str, Any]:
        """Replace ``wrt`` by ``new_value`` and recompute only the steps downstream of it."""
        out = dict(values)
        out[wrt] = new_value
        down = self.downstream(wrt)
        for step in self.step_list:
            if step.name in down:
                out[step.name] = call_step(step, out, self.name)
        return out


def call_step(step: Step, values: Mapping[str, Any], where: str) -> Any:
    try:
        return step.fn(*[values[r] for r in step.reads])
    except ValueError as exc:
        import numpy as np  # only on this error path: importing gradcheck must not load numpy

        shapes = ", ".join(str(np.shape(values[r])) for r in step.reads if np.ndim(values[r]))
        raise ModelError(f"{where}: step {step.name!r} failed: {plain_error(exc)}"
                         + (f" (its inputs have shapes {shapes})" if shapes else "")) from exc


_MATMUL = re.compile(r"matmul: Input operand 1 has a mismatch in its core dimension 0"
                     r".*\(size (\d+) is different from (\d+)\)")
_BROADCAST = re.compile(r"operands could not be broadcast together with shapes (.+?)\s*$")


def plain_error(exc: BaseException) -> str:
    """numpy's error text in words a reader of the derivation knows (no gufunc signatures)."""
    text = str(exc)
    m = _MATMUL.search(text)
    if m:
        return (f"the matrix product cannot be formed: the left factor has {m.group(2)} columns but the right "
                f"factor has {m.group(1)} rows")
    m = _BROADCAST.search(text)
    if m:
        return f"an elementwise operation cannot combine arrays of shapes {' and '.join(m.group(1).split())}"
    return text


def _suggest(name: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=3)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""

