"""Second-order checks: a claimed Hessian, or Hessian-vector product, of a plain numpy function.

The peers' ``gradgradcheck`` / ``check_grads(order=2)``. A Hessian is the Jacobian of the gradient,
so the model has one more step, ``grad_f``, the *true* gradient of ``f`` computed the way each
oracle can trust:

* JAX: ``jax.grad`` of ``f`` (traced, or as is for a ``jax.numpy`` function), differentiated again;
* SymPy: ``sympy.diff`` of the traced expression, differentiated again (exact);
* finite differences: the complex-step gradient of ``f`` (error ~1e-15), differentiated by Richardson
  central differences (error ~1e-10). When ``f`` is not analytic (``abs``, ``maximum``, ...) the complex
  step is wrong, and differences of differences are too inaccurate (~1e-4) to judge a Hessian: this
  oracle then does not run, and says so.

``kind="hessian"``: ``hess(*args)`` returns ``H[i..., j...] = d^2 f / dx_i dx_j`` (shape x + x).
``kind="hvp"``: ``hess(v, *args)`` returns ``H v`` (shape of x), checked at ``points`` seeded ``v``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gradcheck import kinks, ops, trace
from gradcheck.check import check_claim
from gradcheck.claim import Claim
from gradcheck.function import (
    NO_REPAIR,
    FunctionCheck,
    _as_input,
    _dims,
    _few_wrong_entries,
    _numpy_out,
    _signature,
    _trace_error,
    arg_names,
)
from gradcheck.model import Data, Model
from gradcheck.oracles.autodiff import _jax
from gradcheck.tolerances import FLOAT32_RTOL, ORACLE_NAMES

KINDS = ("hessian", "hvp")
COMPLEX_STEP = 1e-20
ANALYTIC_RTOL = 1e-6  # complex-step and central-difference gradients agree this well when f is analytic


def complex_step_gradient(f: Callable, values: Sequence[np.ndarray], argnum: int) -> np.ndarray:
    """d f / d values[argnum] by the complex step, one evaluation per entry (``f`` must be analytic)."""
    x = np.asarray(values[argnum], dtype=float)
    out = np.empty(x.size)
    for k in range(x.size):
        h = COMPLEX_STEP * max(1.0, abs(x.flat[k]))
        xc = x.astype(complex)
        xc.flat[k] += 1j * h
        args = list(values)
        args[argnum] = xc
        out[k] = np.imag(_numpy_out(f(*args))) / h
    return out.reshape(x.shape)


def _central_gradient(f: Callable, values: Sequence[np.ndarray], argnum: int) -> np.ndarray:
    x = np.asarray(values[argnum], dtype=float)
    out = np.empty(x.size)
    for k in range(x.size):
        h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(x.flat[k]))
        plus, minus = x.copy(), x.copy()
        plus.flat[k] += h
        minus.flat[k] -= h
        args_p, args_m = list(values), list(values)
        args_p[argnum], args_m[argnum] = plus, minus
        out[k] = (float(np.real(_numpy_out(f(*args_p)))) - float(np.real(_numpy_out(f(*args_m))))) / (2 * h)
    return out.reshape(x.shape)


def is_analytic_at(f: Callable, values: Sequence[np.ndarray], argnum: int) -> bool:
    """Does the complex-step gradient agree with central differences at this point?"""
    try:
        with np.errstate(all="ignore"):
            cs = complex_step_gradient(f, values, argnum)
    except (TypeError, ValueError):
        return False
    cd = _central_gradient(f, values, argnum)
    scale = max(float(np.max(np.abs(cd))) if cd.size else 0.0, 1.0)
    return bool(np.all(np.isfinite(cs))) and float(np.max(np.abs(cs - cd), initial=0.0)) <= ANALYTIC_RTOL * scale


def _sympy_gradient(f: Callable, vals: Sequence[Any], argnum: int) -> np.ndarray:
    import sympy

    x = np.asarray(vals[argnum], dtype=object)
    fresh = np.array(sympy.symbols(f"_gradcheck_h0:{x.size}"), dtype=object).reshape(x.shape)
    current = kinks.sympy_values()
    at = {s: sympy.sympify(v).xreplace(current) for s, v in zip(fresh.ravel(), x.ravel())}
    args = list(vals)
    args[argnum] = fresh
    with kinks.sympy_substitution({**current, **at}):
        expr = sympy.sympify(trace.call(f, args))
    back = dict(zip(fresh.ravel(), x.ravel()))
    grads = [sympy.diff(expr, s).xreplace(back) for s in fresh.ravel()]
    return np.array(grads, dtype=object).reshape(x.shape)


def _gradient_step(f: Callable, argnum: int, native: bool, analytic: bool) -> Callable:
    """The true gradient of ``f``, as each backend computes it exactly (see the module docstring)."""
    def grad_f(*vals):
        kind = trace.backend(*vals)
        if kind == "jax":
            import jax

            def at(x):
                args = list(vals)
                args[argnum] = x
                return trace.on_backend(f, args, native_jax=native)

            return jax.grad(at)(vals[argnum])
        if kind == "sympy":
            return _sympy_gradient(f, vals, argnum)
        if any(np.iscomplexobj(v) or getattr(v, "gradcheck_batch", False) for v in vals):
            raise TypeError("the gradient step is differentiated by real central differences")  # FD falls back
        real = [np.asarray(v, dtype=float) for v in vals]
        return complex_step_gradient(f, real, argnum) if analytic else _central_gradient(f, real, argnum)

    return grad_f


def check_hessian(f: Callable, hess: Callable, *args: Any, argnum: int = 0, kind: str = "hessian",
                  rtol: float | None = None, atol: float = 0.0, dtype: str = "float64", seed: int = 0,
                  points: int | None = None, oracles: Sequence[str] = ORACLE_NAMES,
                  raise_exception: bool = False) -> FunctionCheck:
    """Judge ``hess`` as the Hessian (or Hessian-vector product) of scalar ``f`` w.r.t. ``args[argnum]``.

    ``dtype="float32"``: ``hess`` runs on float32 copies of the arguments and ``rtol`` defaults to 1e-4,
    as in :func:`gradcheck.function.check_function`.
    """
    __tracebackhide__ = True
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if dtype == "float32" and rtol is None:
        rtol = FLOAT32_RTOL
    bad = [o for o in oracles if o not in ORACLE_NAMES]
    if bad or not oracles:
        raise ValueError(f"unknown oracle(s) {', '.join(bad) or '(none)'}; choose from {', '.join(ORACLE_NAMES)}")
    if not args:
        raise ValueError("give the point to check at: check_hessian(f, hess, x, ...)")
    if not -len(args) <= argnum < len(args):
        raise ValueError(f"argnum {argnum} is out of range for {len(args)} argument(s)")
    argnum %= len(args)
    names = arg_names(f, len(args))
    inputs = {n: _as_input(a, n) for n, a in zip(names, args)}
    values = list(inputs.values())
    _jax()  # x64 before any jax.numpy function sees float64 input
    with np.errstate(all="ignore"):
        direct = f(*values)
    if np.shape(direct) != ():
        raise ValueError(f"f returns shape {np.shape(direct)}; a Hessian is of a scalar function")
    fname = getattr(f, "__name__", "f")
    fname = fname if fname.isidentifier() and fname not in names and fname != "<lambda>" else "f"
    hname = getattr(hess, "__name__", "hess")
    native, f_error = _trace_error(f, values, direct, fname)
    v_name = "v"
    while v_name in names:
        v_name += "_"
    h_values = ([np.ones(values[argnum].shape)] if kind == "hvp" else []) + values
    with np.errstate(all="ignore"):
        h_direct = hess(*h_values)
    h_native, h_error = _trace_error(hess, h_values, h_direct, hname)
    analytic = is_analytic_at(f, values, argnum)

    not_run = {}
    if "finite_difference" in oracles and not analytic:
        not_run["finite_difference"] = (f"{fname} is not analytic at this point (its complex-step gradient differs "
                                        "from central differences), and differences of differences are too "
                                        "inaccurate (~1e-4) to judge a Hessian")
    if "autodiff" in oracles and f_error:
        not_run["autodiff"] = f_error
    if "symbolic" in oracles and (native or f_error or h_native or h_error):
        not_run["symbolic"] = ("the function is written with jax.numpy, which SymPy cannot trace" if native
                               else f_error or ("the Hessian is written with jax.numpy" if h_native else h_error))
    usable = tuple(o for o in oracles if o not in not_run)

    dims, shapes = _dims(inputs, [n for i, n in enumerate(names) if i != argnum])
    x = names[argnum]

    def run(*vals):
        out = trace.on_backend(f, vals, native_jax=native)
        return _numpy_out(out) if trace.backend(*vals) == "numpy" else out

    steps = [(fname, _signature(run, names)), ("grad_f", _signature(_gradient_step(f, argnum, native, analytic),
                                                                      names))]
    data = {n: Data(shapes[n], value=inputs[n]) for n in names}
    of = "grad_f"
    if kind == "hvp":
        data[v_name] = Data(shapes[x])
        of = f"grad_f_dot_{v_name}"
        steps.append((of, _signature(lambda g, v: ops.sum(g * v), ("grad_f", v_name))))
    model = Model(fname, dims, steps, data=data, objective=fname, symbolic_dims=dims)
    claim = Claim(f"d2{fname}_d{x}2", x, _signature(_hessian_formula(hess, kind, h_native, dtype),
                                                   tuple(model.inputs)),
                  of=of, kind="jacobian" if kind == "hessian" else "gradient", source=f"{hname}(...)")
    r = check_claim(model, claim, oracles=usable, n_points=(points or 3) if kind == "hvp" else 1, seed=seed,
                    rtol=rtol, atol=atol)
    notes = tuple(f"{o} could not run: {why}" for o, why in not_run.items())
    if r.verdict in ("incorrect", "shape error"):
        notes += (NO_REPAIR,)
    if dtype == "float32":
        notes += (f"float32 mode: {hname} ran on float32 copies of the arguments; the truth is float64; rtol {rtol:g}",)
    r = replace(r, diagnosis=_few_wrong_entries(r), notes=r.notes + notes)
    out = FunctionCheck(fname, (r,), usable, not_run, notes, rtol, atol, kind)
    if raise_exception and not out.ok:
        from gradcheck.failure import format_function_check

        raise AssertionError(format_function_check(out))
    return out


def assert_hessian(f: Callable, hess: Callable, *args: Any, **options: Any) -> FunctionCheck:
    """:func:`check_hessian` that raises ``AssertionError`` with the readable failure when wrong."""
    __tracebackhide__ = True
    return check_hessian(f, hess, *args, raise_exception=True, **options)


def _hessian_formula(hess: Callable, kind: str, native: bool, dtype: str) -> Callable:
    def formula(*vals):
        if kind == "hvp":
            vals = vals[-1:] + vals[:-1]  # the model's inputs are (*args, v); hess reads (v, *args)
        numeric = trace.backend(*vals) == "numpy"
        if numeric and dtype == "float32":
            vals = tuple(np.asarray(v, dtype=np.float32) for v in vals)
        out = trace.on_backend(hess, vals, native_jax=native)
        return np.asarray(_numpy_out(out), dtype=float) if numeric else out

    return formula
