"""Check a hand-written gradient of a plain Python function, as ``torch.autograd.gradcheck`` and
``jax.test_util.check_grads`` do, with gradcheck's verdicts and diagnoses::

    def loss(W, X):  return np.sum(np.tanh(X @ W) ** 2) / X.shape[0]
    def dloss(W, X): return X.T @ (2 * np.tanh(X @ W) * (1 - np.tanh(X @ W) ** 2)) / X.shape[0]
    check_function(loss, dloss, W, X, argnums=0)

The function becomes a model of one step whose inputs are its arguments (at the values given: the
point of the check, as for the peers), and ``grad`` becomes one claim per argument in ``argnums``.
Finite differences run ``f`` as is; JAX and SymPy run it through :mod:`gradcheck.trace`, so all three
differentiate the same computation. An oracle that cannot run (a call that cannot be traced, Python
control flow on an array value) is named with the reason, and the verdict rests on the others.

Kinds: ``gradient`` (``f`` returns a scalar; ``grad(*args)`` returns d f / d args[i] for each i in
``argnums``, one array or a tuple in that order); ``jacobian`` (``f`` returns an array; ``grad``
returns ``J[out..., in...] = d out / d in``); ``vjp`` (``grad(g, *args)`` returns ``g``'s
vector-Jacobian products, ``sum(g * d f / d args[i])``, checked at three seeded cotangents ``g``).
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gradcheck import trace
from gradcheck.check import ClaimResult, check_claim
from gradcheck.claim import Claim
from gradcheck.diagnose import Diagnosis
from gradcheck.failure import worst_entries
from gradcheck.model import Data, Model
from gradcheck.oracles.autodiff import _jax
from gradcheck.tolerances import FLOAT32_RTOL, ORACLE_NAMES

KINDS = ("gradient", "jacobian", "vjp")
NO_REPAIR = ("no repair searched: a repair edits a formula, and the gradient here is a Python function; "
             "write it as a formula (a homework file or check_claim) to get one")
MAX_NAMED_ENTRIES = 3  # a diagnosis names the wrong entries when there are at most this many
TRACE_RTOL = 1e-10  # the traced computation must reproduce f's own value (same operations: ~1e-16)


@dataclass(frozen=True)
class FunctionCheck:
    """The result of :func:`check_function`: one :class:`ClaimResult` per checked argument."""

    function: str
    results: tuple[ClaimResult, ...]
    oracles_run: tuple[str, ...]
    not_run: Mapping[str, str] = field(default_factory=dict)  # oracle -> why it could not run
    notes: tuple[str, ...] = ()
    rtol: float | None = None
    atol: float = 0.0
    kind: str = "gradient"

    @property
    def ok(self) -> bool:
        return all(r.verdict == "correct" for r in self.results)

    @property
    def verdict(self) -> str:
        """``correct`` when every argument's gradient is, else the first other verdict."""
        return next((r.verdict for r in self.results if r.verdict != "correct"), "correct")

    def __iter__(self) -> Iterator[ClaimResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, key: int | str) -> ClaimResult:
        if isinstance(key, int):
            return self.results[key]
        for r in self.results:
            if r.claim.wrt == key:
                return r
        raise KeyError(f"{key!r} is not a checked argument; checked: {', '.join(r.claim.wrt for r in self.results)}")

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        from gradcheck.failure import format_function_check

        return format_function_check(self)

    def _repr_markdown_(self) -> str:
        from gradcheck.notebook import function_markdown

        return function_markdown(self)

    def _repr_html_(self) -> str:
        from gradcheck.notebook import function_html

        return function_html(self)


def arg_names(f: Callable, n: int) -> tuple[str, ...]:
    """``f``'s positional parameter names when they name all ``n`` arguments, else ``x0, x1, ...``."""
    try:
        params = [p for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    names = tuple(p.name for p in params[:n])
    ok = len(names) == n and len(set(names)) == n and all(s.isidentifier() and not keyword.iskeyword(s)
                                                          and not s.startswith("_") for s in names)
    return names if ok else tuple(f"x{i}" for i in range(n))


def _as_input(x: Any, name: str) -> np.ndarray:
    torch_value = getattr(x, "detach", None)
    if torch_value is not None and type(x).__module__.startswith("torch"):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"argument {name!r} has dtype {a.dtype}; check_function needs real numbers")
    return a.astype(np.float64)


def _dims(inputs: Mapping[str, np.ndarray], data_first: Sequence[str] = ()) -> tuple[dict[str, int], dict[str, tuple]]:
    """A name per distinct axis length above 2 (``X.shape[0]``), so diagnoses can say "1/X.shape[0]".

    The arguments in ``data_first`` (those not differentiated: the data) name their axes first, so a
    batch size is called ``X.shape[0]`` rather than ``2 * W.shape[0]``.
    """
    dims: dict[str, int] = {}
    by_size: dict[int, str] = {}
    shapes = {}
    order = [n for n in data_first if n in inputs] + [n for n in inputs if n not in data_first]
    for name in order:
        a = inputs[name]
        shape = []
        for axis, size in enumerate(a.shape):
            if size > 2:
                by_size.setdefault(size, f"{name}.shape[{axis}]")
                dims[by_size[size]] = size
                shape.append(by_size[size])
            else:
                shape.append(size)
        shapes[name] = tuple(shape)
    return dims, shapes


def _signature(fn: Callable, names: Sequence[str]) -> Callable:
    fn.__signature__ = inspect.Signature([inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names])
    return fn


def _numpy_out(value: Any) -> Any:
    """A JAX or torch result of a numpy-fed call, as a float64 (or complex) numpy array."""
    if trace.is_jax_value(value):
        return np.asarray(value)
    if type(value).__module__.startswith("torch"):
        return value.detach().numpy()
    return value


def _torch_function(fn: Callable) -> Callable:
    def on_numpy(*values):
        import torch

        return fn(*[torch.as_tensor(v) for v in values])

    return on_numpy


@dataclass(frozen=True)
class _Traceability:
    f_native_jax: bool
    f_error: str | None
    grad_native_jax: bool
    grad_error: str | None


def _trace_error(fn: Callable, args: Sequence[np.ndarray], direct: Any, what: str) -> tuple[bool, str | None]:
    """(written with jax.numpy?, why it cannot be traced or None)."""
    if trace.is_jax_value(direct) or (isinstance(direct, (tuple, list)) and any(map(trace.is_jax_value, direct))):
        return True, None
    try:
        with np.errstate(all="ignore"):
            traced = trace.call(fn, list(args))
    except trace.TraceError as exc:
        return False, f"{what} could not be traced: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure under tracing is a reason, never a crash
        return False, f"{what} could not be traced: {type(exc).__name__}: {exc}"
    want = direct if isinstance(direct, (tuple, list)) else (direct,)
    got = traced if isinstance(traced, (tuple, list)) else (traced,)
    for a, b in zip(want, got):
        a, b = np.asarray(_numpy_out(a), dtype=float), np.asarray(b, dtype=float)
        scale = max(float(np.max(np.abs(a))) if a.size else 0.0, 1.0)
        if a.shape != b.shape or float(np.max(np.abs(a - b), initial=0.0)) > TRACE_RTOL * scale:
            return False, f"{what} traced gives another value than {what} itself (some call is traced differently)"
    return False, None


def _pick(out: Any, position: int, count: int, grad_name: str) -> Any:
    if isinstance(out, (tuple, list)):
        if len(out) != count:
            raise ValueError(f"{grad_name} returned {len(out)} arrays for {count} argument(s) in argnums; "
                             "return one gradient per checked argument, in the order of argnums")
        return out[position]
    if count != 1:
        raise ValueError(f"{grad_name} returned one array for {count} arguments in argnums (default: every "
                         "argument); pass argnums=0 to check the first argument only, or return a tuple")
    return out


def check_function(f: Callable, grad: Callable, *args: Any, argnums: int | Sequence[int] | None = None,
                   kind: str = "gradient", rtol: float | None = None, atol: float = 0.0, eps: float | None = None,
                   dtype: str = "float64", seed: int = 0, points: int | None = None,
                   oracles: Sequence[str] = ORACLE_NAMES, raise_exception: bool = False) -> FunctionCheck:
    """Judge ``grad`` as the derivative of ``f`` at ``args`` with finite differences, JAX and SymPy.

    ``argnums``: the arguments to differentiate (default: all). ``rtol``/``atol``: see
    :mod:`gradcheck.tolerances` (default: each oracle's own). ``eps``: a fixed step for plain central
    differences instead of the automatic complex step / Richardson choice. ``dtype="float32"``: ``grad``
    is called on float32 copies of the arguments (as your float32 code runs), the truth stays float64,
    and ``rtol`` defaults to 1e-4 (stated in the result). ``points``: for ``kind="vjp"``, the number of
    seeded cotangents (default 3); the other kinds are checked at the given arguments. With
    ``raise_exception=True`` a wrong gradient raises ``AssertionError`` (see :func:`assert_function`).
    """
    __tracebackhide__ = True
    out = _check(f, grad, args, argnums, kind, rtol, atol, eps, dtype, seed, points, tuple(oracles))
    if raise_exception and not out.ok:
        from gradcheck.failure import format_function_check

        raise AssertionError(format_function_check(out))
    return out


def assert_function(f: Callable, grad: Callable, *args: Any, **options: Any) -> FunctionCheck:
    """:func:`check_function` that raises ``AssertionError`` (verdict, diagnosis, worst entries) when wrong."""
    __tracebackhide__ = True
    return check_function(f, grad, *args, raise_exception=True, **options)


def _validate(kind: str, dtype: str, oracles: Sequence[str], args: Sequence[Any]) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    bad = [o for o in oracles if o not in ORACLE_NAMES]
    if bad or not oracles:
        raise ValueError(f"unknown oracle(s) {', '.join(bad) or '(none)'}; choose from {', '.join(ORACLE_NAMES)}")
    if not args:
        raise ValueError("give the point to check at: check_function(f, grad, x, ...)")


def _argnums(argnums: int | Sequence[int] | None, n: int) -> tuple[int, ...]:
    chosen = tuple(range(n)) if argnums is None else ((argnums,) if isinstance(argnums, int) else tuple(argnums))
    for i in chosen:
        if not -n <= i < n:
            raise ValueError(f"argnums {i} is out of range for {n} argument(s)")
    return tuple(i % n for i in chosen)


def _check(f, grad, args, argnums, kind, rtol, atol, eps, dtype, seed, points, oracles) -> FunctionCheck:
    _validate(kind, dtype, oracles, args)
    if any(type(a).__module__.startswith("torch") for a in args):
        f, grad = _torch_function(f), _torch_function(grad)
    names = arg_names(f, len(args))
    inputs = {n: _as_input(a, n) for n, a in zip(names, args)}
    argnums = _argnums(argnums, len(args))
    if dtype == "float32" and rtol is None:
        rtol = FLOAT32_RTOL
    fname = getattr(f, "__name__", "f")
    fname = fname if fname.isidentifier() and fname not in names and fname != "<lambda>" else "f"
    gname = getattr(grad, "__name__", "grad")

    values = list(inputs.values())
    _jax()  # x64 on before a jax.numpy function sees float64 input
    with np.errstate(all="ignore"):
        direct = f(*values)
    if kind == "gradient" and np.shape(direct) != ():
        raise ValueError(f"{fname} returns shape {np.shape(direct)}; a gradient needs a scalar: use "
                         "kind='jacobian' (grad returns d out / d in) or kind='vjp' (grad(g, *args))")
    cot_name = "g"
    while cot_name in names:
        cot_name += "_"
    f_native, f_error = _trace_error(f, values, direct, fname)
    grad_values = ([np.ones(np.shape(direct))] if kind == "vjp" else []) + values
    with np.errstate(all="ignore"):
        grad_direct = grad(*grad_values)
    g_native, g_error = _trace_error(grad, grad_values, grad_direct, gname)
    for pos in range(len(argnums)):
        _pick(grad_direct, pos, len(argnums), gname)

    not_run = _unavailable(oracles, f_native, f_error, g_native, g_error)
    usable = tuple(o for o in oracles if o not in not_run)
    model = _model(f, fname, inputs, kind, np.shape(direct), cot_name, f_native,
                   [n for i, n in enumerate(names) if i not in argnums])
    results = []
    for pos, i in enumerate(argnums):
        claim = Claim(f"d{fname}_d{names[i]}", names[i], _formula(grad, names, pos, len(argnums), kind, cot_name,
                                                                  dtype, g_native, gname),
                      of=model.objective, kind="jacobian" if kind == "jacobian" else "gradient",
                      source=f"{gname}(...)" + (f"[{pos}]" if len(argnums) > 1 else ""))
        options = {"finite_difference": {"method": "central", "step": eps}} if eps else None
        r = check_claim(model, claim, oracles=usable, n_points=(points or 3) if kind == "vjp" else 1, seed=seed,
                        rtol=rtol, atol=atol, options=options)
        r = replace(r, diagnosis=_few_wrong_entries(r))
        notes = tuple(f"{o} could not run: {why}" for o, why in not_run.items())
        if r.verdict in ("incorrect", "shape error"):
            notes += (NO_REPAIR,)
        if dtype == "float32":
            notes += ((f"float32 mode: {gname} ran on float32 copies of the arguments; the truth is float64; "
                       f"rtol {rtol:g} (float32 rounding, eps 1.2e-7, grows with the computation)"),)
        results.append(replace(r, notes=r.notes + notes))
    return FunctionCheck(fname, tuple(results), usable, not_run,
                         tuple(f"{o} could not run: {why}" for o, why in not_run.items()), rtol, atol, kind)


def _few_wrong_entries(r: ClaimResult) -> Diagnosis | None:
    """For a gradient with no simple relation to the truth: name the entries when only a few are wrong."""
    d = r.diagnosis
    if d is None or d.kind != "no simple relation" or r.claimed is None or r.truth is None:
        return d
    rows, n_diff, n = worst_entries(r.claimed, r.truth)
    if not rows or n_diff > MAX_NAMED_ENTRIES or 2 * n_diff >= n:
        return d
    where = "; ".join(f"[{', '.join(map(str, ix))}] claimed {c + 0.0:.6g}, true {t + 0.0:.6g}" for ix, c, t in rows)
    return Diagnosis("wrong entries", f"{n_diff} of {n} entries are wrong ({where}); the others match",
                     "recompute those entries: look for an index or a special case only they use")


def _unavailable(oracles, f_native: bool, f_error, g_native: bool, g_error) -> dict[str, str]:
    out = {}
    if "autodiff" in oracles and f_error:
        out["autodiff"] = f_error
    if "symbolic" in oracles:
        if f_native:
            out["symbolic"] = "the function is written with jax.numpy, which SymPy cannot trace (JAX checks it)"
        elif f_error:
            out["symbolic"] = f_error
        elif g_native:
            out["symbolic"] = "the gradient is written with jax.numpy, which SymPy cannot trace"
        elif g_error:
            out["symbolic"] = g_error + " (SymPy evaluates the claimed gradient on exact values)"
    return out


def _model(f, fname, inputs, kind, out_shape, cot_name, native, data: Sequence[str] = ()) -> Model:
    dims, shapes = _dims(inputs, data)
    names = tuple(inputs)

    def run(*vals):
        out = trace.on_backend(f, vals, native_jax=native)
        return _numpy_out(out) if trace.backend(*vals) == "numpy" else out

    steps = [(fname, _signature(run, names))]
    data = {n: Data(shapes[n], value=inputs[n]) for n in names}  # in the function's order
    objective = fname
    if kind == "vjp":
        from gradcheck import ops

        data[cot_name] = Data(tuple(out_shape))
        objective = f"{cot_name}_dot_{fname}"
        steps.append((objective, _signature(lambda g, y: ops.sum(g * y), (cot_name, fname))))
    return Model(fname, dims, steps, data=data, objective=objective, symbolic_dims=dims)


def _formula(grad, names, pos, count, kind, cot_name, dtype, native, gname) -> Callable:
    def formula(*vals):
        if kind == "vjp":
            vals = vals[-1:] + vals[:-1]  # the formula reads (g, *args) in the model's order: args..., g
        numeric = trace.backend(*vals) == "numpy"
        if numeric and dtype == "float32":
            vals = tuple(np.asarray(v, dtype=np.float32) for v in vals)
        out = _pick(trace.on_backend(grad, vals, native_jax=native), pos, count, gname)
        return np.asarray(_numpy_out(out), dtype=np.float64) if numeric else out

    return _signature(formula, tuple(names) + ((cot_name,) if kind == "vjp" else ()))
