"""Finite-difference oracle: batched evaluation of perturbations equals the one-call-each loop,
falls back to it on anything it does not support, and central differences converge at order 2.
(No timing assertions: the benchmarks measure speed.)"""

import numpy as np
import pytest

from gradcheck import Data, Model
from gradcheck.oracles import finite_difference as fd
from gradcheck.ops import max as rowmax
from gradcheck.ops import (concatenate, log, logsumexp, mean, relu, sigmoid, softmax, softplus, sum,
                           tanh, transpose, var, where)
from gradcheck.points import draw_points


def _models():
    yield Model("row vectors, .T and axis=", dims={"m": 4, "d": 3, "h": 5, "c": 3},
                data={"x": Data(("m", "d")), "y": Data(("m", "c"), kind="one_hot")},
                params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "c"), "b2": ("c",)},
                steps=[("z1", lambda x, W1, b1: x @ W1 + b1), ("a1", lambda z1: tanh(z1)),
                       ("z2", lambda a1, W2, b2: (W2.T @ a1.T).T + b2),
                       ("p", lambda z2: softmax(z2, axis=1)),
                       ("loss", lambda y, p, m: -sum(y * log(p)) / m + 0.1 * sum(mean(p, axis=0) ** 2))])
    yield Model("column vectors (1-D), indexing, concatenate", dims={"D": 3, "H": 4, "C": 3},
                data={"x": Data(("D",)), "y": Data(("C",), kind="one_hot"), "one": Data((1,), value=np.ones(1))},
                params={"W1": ("H", 4), "W2": ("C", 5)},
                steps=[("xt", lambda one, x: concatenate([one, x])), ("z", lambda W1, xt: W1 @ xt),
                       ("a", lambda z: relu(z)), ("at", lambda one, a: concatenate([one, a])),
                       ("s", lambda W2, at: W2 @ at), ("h", lambda s: softmax(s)),
                       ("J", lambda y, h, W1, W2: -sum(y * log(h)) + 0.05 * (sum(W1[:, 1:] ** 2) + sum(W2[1:] ** 2)))],
                objective="J")
    yield Model("reductions and piecewise", dims={"m": 5, "d": 4},
                data={"x": Data(("m", "d"))}, params={"w": ("d",), "V": ("d", "d")},
                steps=[("u", lambda x, w: x * w), ("v", lambda u, V: transpose(u @ V)),
                       ("r", lambda v: sigmoid(v) + softplus(v) + where(v > 0, v, 0.5 * v)),
                       ("q", lambda r: logsumexp(r, axis=0) + rowmax(r, axis=1).sum() + var(r, axis=1)[2]),
                       ("loss", lambda q: sum(q ** 2) + mean(q))])
    yield Model("1-D parameter and scalar output", dims={"n": 6}, data={"a": Data(("n",))}, params={"t": ("n",)},
                steps=[("loss", lambda a, t: sum(tanh(a * t) ** 2) + (a @ t) ** 2)])


MODELS = list(_models())


def _targets(model):
    values = model.forward(draw_points(model, 1, seed=3)[0].values)
    for wrt in model.params:
        yield wrt, (lambda x, wrt=wrt: model.rerun_from(values, wrt, x)[model.objective]), np.asarray(values[wrt], float)


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
@pytest.mark.parametrize("mode", ["structured", "dense"])
def test_batched_complex_step_equals_the_loop(model, mode):
    for wrt, f, x0 in _targets(model):
        fd.STATS.clear()
        fast = fd.complex_step_jacobian(f, x0, batch=mode)
        assert fd.STATS["fallback"] == 0, (wrt, fd.STATS.get("last_fallback"))
        loop = fd.complex_step_jacobian(f, x0, batch="loop")
        np.testing.assert_allclose(fast, loop, rtol=1e-12, atol=1e-14 * np.max(np.abs(loop)), err_msg=wrt)


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_batched_central_differences_equal_the_loop(model):
    for wrt, f, x0 in _targets(model):
        fd.STATS.clear()
        fast, err_fast, smooth_fast = fd.central_jacobian(f, x0)
        assert fd.STATS["fallback"] == 0, (wrt, fd.STATS.get("last_fallback"))
        loop, err_loop, smooth_loop = fd.central_jacobian(f, x0, batch="loop")
        # the same perturbed values up to the rounding of reordered sums, divided by h ~ 6e-6
        np.testing.assert_allclose(fast, loop, rtol=0, atol=1e-8 * max(1.0, np.max(np.abs(loop))), err_msg=wrt)
        assert smooth_fast == smooth_loop


def test_perturbed_values_match_the_loop_exactly_on_elementwise_models():
    model = MODELS[3]
    for wrt, f, x0 in _targets(model):
        ks = np.arange(x0.size)
        steps = 1e-3 * (1 + ks)
        fast = fd.perturbed_values(f, x0, ks, steps, batch="dense")
        loop = fd.perturbed_values(f, x0, ks, steps, batch="loop")
        np.testing.assert_allclose(fast, loop, rtol=1e-14)


def test_unsupported_step_falls_back_to_the_loop():
    model = Model("plain numpy inside a step", dims={"n": 12}, data={"a": Data(("n",))}, params={"t": ("n",)},
                  steps=[("u", lambda a, t: np.asarray(a * t)), ("loss", lambda u: sum(np.tanh(u) ** 2))])
    (wrt, f, x0), = list(_targets(model))
    fd.STATS.clear()
    fast = fd.complex_step_jacobian(f, x0)
    assert fd.STATS["fallback"] == 1
    np.testing.assert_array_equal(fast, fd.complex_step_jacobian(f, x0, batch="loop"))


def test_a_wrong_batched_result_is_caught_by_validation(monkeypatch):
    """If batched values ever differed from the loop, the first chunk's validation falls back."""
    model = MODELS[0]
    wrt, f, x0 = next(iter(_targets(model)))
    real = fd._batched_columns
    monkeypatch.setattr(fd, "_batched_columns", lambda *a: real(*a) * (1 + 1e-9))
    fd.STATS.clear()
    fast = fd.complex_step_jacobian(f, x0)
    assert fd.STATS["fallback"] == 1 and "differ" in fd.STATS["last_fallback"]
    np.testing.assert_array_equal(fast, fd.complex_step_jacobian(f, x0, batch="loop"))


def test_central_difference_converges_at_order_two():
    """Log-log slope of |D(h) - f'| against h for a smooth function is 2."""
    model = Model("smooth", dims={"n": 3}, data={"a": Data(("n",))}, params={"t": ("n",)},
                  steps=[("loss", lambda a, t: sum(tanh(a * t) + 0.3 * (a * t) ** 3))])
    a = np.array([0.7, -1.1, 0.4])
    t0 = np.array([0.3, 0.8, -0.5])
    values = model.forward({"a": a, "t": t0})
    f = lambda x: model.rerun_from(values, "t", x)["loss"]  # noqa: E731
    v = np.array([1.0, -0.5, 0.25])
    exact = float(np.sum(v * (a * (1 - np.tanh(a * t0) ** 2) + 0.9 * a ** 3 * t0 ** 2)))
    hs = np.logspace(-1, -3, 7)
    errs = [abs(fd._directional(f, t0, v, h / fd.CENTRAL_STEP, complex_ok=False) - exact) for h in hs]
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert abs(slope - 2) < 0.3, slope


def test_complex_step_jacobian_is_accurate_to_rounding():
    model = MODELS[0]
    for wrt, f, x0 in _targets(model):
        jac = fd.complex_step_jacobian(f, x0)
        cen, err, smooth = fd.central_jacobian(f, x0)
        assert smooth
        np.testing.assert_allclose(jac, cen, atol=1e-7 * max(1.0, np.max(np.abs(jac))))


# --------------------------------------------------------------------------- random-direction probes
@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_batched_directions_equal_the_complex_step_loop(model):
    """All k directions as one forward-mode (Dual) evaluation = one complex step per direction."""
    rng = np.random.default_rng(0)
    for wrt, f, x0 in _targets(model):
        V = fd._rademacher(rng, (5,) + x0.shape)
        fd.STATS.clear()
        d = fd._Directions(f, x0, None)
        fast = d(V)
        assert d.mode == "batched", (wrt, fd.STATS.get("last_fallback"))
        scale = max(1.0, float(np.max(np.abs(x0))))
        loop = np.stack([fd._directional(f, x0, v, scale, True) for v in V])
        np.testing.assert_allclose(fast, loop, rtol=1e-12, atol=1e-13 * np.max(np.abs(loop)), err_msg=wrt)


def test_batched_directions_fall_back_on_unsupported_steps():
    model = Model("plain numpy inside a step", dims={"n": 12}, data={"a": Data(("n",))}, params={"t": ("n",)},
                  steps=[("u", lambda a, t: np.asarray(a * t)), ("loss", lambda u: sum(np.tanh(u) ** 2))])
    (wrt, f, x0), = list(_targets(model))
    V = fd._rademacher(np.random.default_rng(1), (4,) + x0.shape)
    d = fd._Directions(f, x0, None)
    out = d(V)
    assert d.mode == "loop"
    np.testing.assert_allclose(out, [fd._directional(f, x0, v, 1.0, d.complex_ok) for v in V], rtol=1e-10)


def test_a_wrong_batched_direction_is_caught_by_validation(monkeypatch):
    wrt, f, x0 = next(iter(_targets(MODELS[0])))
    real = fd._directions_batched
    monkeypatch.setattr(fd, "_directions_batched", lambda *a: (real(*a)[0] * 1.001, real(*a)[1]))
    d = fd._Directions(f, x0, None)
    d(fd._rademacher(np.random.default_rng(2), (3,) + x0.shape))
    assert d.mode == "loop" and "differs" in fd.STATS["last_fallback"]


def _quadratic(n, seed=0):
    g = np.random.default_rng(seed).standard_normal(n)
    return g, (lambda x: 0.5 * sum(x * x))  # gradient at g is g itself


@pytest.mark.parametrize("n", [1, 2, 5, 1000, 4099])
def test_one_wrong_entry_is_localised_by_its_binary_digits(n):
    g, f = _quadratic(n)
    for i in sorted({0, n // 3, n - 1}):
        claim = g.copy()
        claim[i] += 0.01 * np.max(np.abs(g))
        info = {}
        c, t, wrong = fd._probe(claim, f, g, np.random.default_rng(i), 16, None, lambda a: a, info)
        assert wrong == (i,)
        # k probes + ceil(log2 n) digit directions, no bisection
        assert info["evaluations"] == 16 + (int(np.ceil(np.log2(n))) if n > 1 else 0)


def test_several_wrong_entries_are_localised_even_when_they_cancel():
    """Equal errors cancel in a block's probe with probability 1/2: bisection re-probes such pairs."""
    g, f = _quadratic(3000, seed=1)
    for seed in range(5):
        claim = g.copy()
        entries = [7, 8, 1500, 2999]
        claim[entries] += 0.05
        c, t, wrong = fd._probe(claim, f, g, np.random.default_rng(seed), 16, None, lambda a: a)
        assert wrong == tuple(entries)


def test_a_correct_claim_passes_every_probe():
    g, f = _quadratic(5000, seed=2)
    c, t, wrong = fd._probe(g.copy(), f, g, np.random.default_rng(0), 16, None, lambda a: a)
    assert wrong == () and np.max(np.abs(c - t)) <= 1e-6 * np.max(np.abs(t))


def test_rademacher_directions_are_fair_signs():
    V = fd._rademacher(np.random.default_rng(0), (16, 1001))
    assert set(np.unique(V)) == {-1.0, 1.0} and abs(V.mean()) < 0.02
