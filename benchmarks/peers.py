"""The peers, each checking the same hand-derived gradient in its own way (all float64).

Each ``check_*`` returns (caught: bool, numerical gradient or None) for the problem and a planted
error name (None for the correct gradient). Where a peer only compares directional derivatives it
returns no numerical gradient, and its accuracy is that of its one numerical directional derivative.
"""

from __future__ import annotations

import numpy as np

from benchmarks.problems import PARAMS, Problem


# --------------------------------------------------------------------------- torch
def _torch_fn(prob: Problem, planted: str | None):
    import torch

    x = torch.tensor(prob.point["x"])
    y = torch.tensor(prob.point["y"])

    class Loss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, W1, b1, W2, b2):
            ctx.save_for_backward(W1, b1, W2, b2)
            a1 = torch.tanh(x @ W1 + b1)
            logp = torch.log_softmax(a1 @ W2 + b2, dim=1)
            return -(y * logp).sum() / x.shape[0]

        @staticmethod
        def backward(ctx, gout):
            W1, b1, W2, b2 = ctx.saved_tensors
            m = x.shape[0]
            a1 = torch.tanh(x @ W1 + b1)
            p = torch.softmax(a1 @ W2 + b2, dim=1)
            dz2 = (p - y) / m
            dz1 = (dz2 @ W2.T) * (1 - a1 ** 2)
            g = {"W1": x.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
            if planted:
                for k, f in prob.planted[planted].items():
                    g[k] = torch.tensor(f(g[k].numpy()))
            return tuple(gout * g[k] for k in PARAMS)

    inputs = tuple(torch.tensor(prob.point[k], requires_grad=True) for k in PARAMS)
    return Loss.apply, inputs


def torch_forward(prob: Problem):
    import torch

    fn, inputs = _torch_fn(prob, None)
    with torch.no_grad():
        return lambda: fn(*inputs)


def check_torch(prob: Problem, planted: str | None, fast_mode: bool = False):
    import torch

    torch.set_num_threads(1)
    fn, inputs = _torch_fn(prob, planted)
    ok = torch.autograd.gradcheck(fn, inputs, raise_exception=False, fast_mode=fast_mode)
    return (not ok), None


def torch_numerical_gradient(prob: Problem) -> np.ndarray:
    """The numerical gradient torch.autograd.gradcheck compares against (central differences,
    eps=1e-6), from torch's own helper."""
    import sys

    import torch

    fn, inputs = _torch_fn(prob, None)
    gc = sys.modules["torch.autograd.gradcheck"]
    with torch.no_grad():
        out = fn(*inputs)
    jac = gc._get_numerical_jacobian(fn, inputs, (out,), eps=1e-6)
    return np.concatenate([np.asarray(j[0]).reshape(-1) for j in jac])


# --------------------------------------------------------------------------- jax
def _jax_fn(prob: Problem, planted: str | None):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    x = jnp.asarray(prob.point["x"])
    y = jnp.asarray(prob.point["y"])
    m = x.shape[0]

    def loss(W1, b1, W2, b2):
        a1 = jnp.tanh(x @ W1 + b1)
        return -(y * jax.nn.log_softmax(a1 @ W2 + b2, axis=1)).sum() / m

    f = jax.custom_vjp(loss)

    def fwd(W1, b1, W2, b2):
        return loss(W1, b1, W2, b2), (W1, b1, W2, b2)

    def bwd(res, gout):
        W1, b1, W2, b2 = res
        a1 = jnp.tanh(x @ W1 + b1)
        p = jax.nn.softmax(a1 @ W2 + b2, axis=1)
        dz2 = (p - y) / m
        dz1 = (dz2 @ W2.T) * (1 - a1 ** 2)
        g = {"W1": x.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
        if planted:
            for k, fn in prob.planted[planted].items():
                g[k] = jax.pure_callback(lambda v, fn=fn: np.asarray(fn(np.asarray(v)), dtype=np.float64),
                                         jax.ShapeDtypeStruct(g[k].shape, jnp.float64), g[k])
        return tuple(gout * g[k] for k in PARAMS)

    f.defvjp(fwd, bwd)
    return f, tuple(jnp.asarray(prob.point[k]) for k in PARAMS)


def check_jax(prob: Problem, planted: str | None):
    from jax.test_util import check_grads

    f, args = _jax_fn(prob, planted)
    try:
        check_grads(f, args, order=1, modes=("rev",))
    except AssertionError:
        return True, None
    return False, None


def jax_directional_error(prob: Problem) -> float:
    """Relative error of the numerical directional derivative check_grads uses (central, eps 1e-4)."""
    import jax

    f, args = _jax_fn(prob, None)
    rng = np.random.default_rng(1)
    v = [rng.standard_normal(np.shape(a)) for a in args]
    eps = 1e-4
    plus = f(*[a + eps * t for a, t in zip(args, v)])
    minus = f(*[a - eps * t for a, t in zip(args, v)])
    num = float((plus - minus) / (2 * eps))
    exact = float(sum(np.sum(prob.exact[k] * t) for k, t in zip(PARAMS, v)))
    del jax
    return abs(num - exact) / abs(exact)


# --------------------------------------------------------------------------- scipy
SCIPY_RTOL = 1e-5  # check_grad returns ||grad - approx||; "caught" when it exceeds this times ||approx||


def check_scipy(prob: Problem, planted: str | None):
    from scipy.optimize import check_grad

    theta = prob.theta()
    err = check_grad(prob.loss, lambda t: prob.grad(t, planted), theta)
    scale = float(np.linalg.norm(prob.grad(theta)))
    return bool(err > SCIPY_RTOL * scale), None


def scipy_numerical_gradient(prob: Problem) -> np.ndarray:
    from scipy.optimize import approx_fprime

    return approx_fprime(prob.theta(), prob.loss, np.sqrt(np.finfo(float).eps))


# --------------------------------------------------------------------------- numdifftools
ND_RTOL = 1e-6  # "caught" when max|claimed - numerical| exceeds this times max|numerical|


def numdifftools_gradient(prob: Problem) -> np.ndarray:
    import numdifftools as nd

    return nd.Gradient(prob.loss)(prob.theta())


def check_numdifftools(prob: Problem, planted: str | None, numerical: np.ndarray | None = None):
    num = numdifftools_gradient(prob) if numerical is None else numerical
    claimed = prob.grad(prob.theta(), planted)
    caught = float(np.max(np.abs(claimed - num))) > ND_RTOL * float(np.max(np.abs(num)))
    return caught, num
