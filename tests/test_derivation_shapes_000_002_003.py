"""Each derivation's model reproduces the shapes its source document states.

Documents 000 (single-example ReLU/softmax), 002 (index-notation backprop) and 003 (2-500-2 tanh
network). Where a document's own shapes do not fit together, the test asserts the finding.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(f"derivations.{name}", ROOT / "derivations" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _point(model, seed=0):
    """Data and parameters of the declared shapes (the engine's seeded sampler)."""
    from gradcheck.points import draw_points

    return dict(draw_points(model, 1, seed=seed)[0].values)


def _shapes(model):
    out = model.forward(_point(model))
    return {k: np.shape(v) for k, v in out.items() if k not in model.dims and k not in model.constants}


# ------------------------------------------------------------------ 000
def test_000_shapes_match_document():
    mod = _load("relu_softmax_single_example")
    m = mod.MODEL
    D, H, C = m.dims["D"], m.dims["H"], m.dims["C"]
    assert m.dims["D1"] == D + 1 and m.dims["H1"] == H + 1
    s = _shapes(m)
    assert s["x"] == (D,) and s["y"] == (C,)
    assert s["xt"] == (D + 1,)                 # x~ in R^{D+1}
    assert s["Wt1"] == (H, D + 1)              # W~(1) in R^{H x (D+1)}
    assert s["Z2"] == s["A2"] == (H,)
    assert s["At2"] == (H + 1,)
    assert s["Z3"] == s["A3"] == s["h"] == (C,)  # Z(3) in R^C, h in R^C
    assert s["J"] == () and s["ce"] == ()


def test_000_chain_rule_indices_give_the_transposed_shape():
    """Finding: dJ/dW~_{i,j} = ... A_i with dZ_j (the document's chain rule) builds a (D+1) x H array."""
    mod = _load("relu_softmax_single_example")
    m = mod.MODEL
    values = m.forward(_point(m))
    claim = mod.DERIVATION.claim("dJ_dWt1_chain_rule")
    written = claim.formula(np.ones(m.dims["H"]), values["Z2"], values["xt"])
    assert written.shape == tuple(reversed(np.shape(values["Wt1"])))
    assert written.shape != np.shape(values["Wt1"])


def test_000_delta_recursion_cannot_be_formed():
    """Finding: sum_k Delta(l+1)_k W~(l)_{j,k} contracts W~(2)'s H+1 columns with C entries of Delta(3)."""
    mod = _load("relu_softmax_single_example")
    m = mod.MODEL
    values = m.forward(_point(m))
    claim = mod.DERIVATION.claim("delta_hidden_recursion")
    with pytest.raises(ValueError):
        claim.formula(values["Z2"], np.ones(m.dims["C"]), values["Wt2"])


# ------------------------------------------------------------------ 002
def test_002_shapes_match_document():
    mod = _load("index_notation_general_backprop")
    m = mod.MODEL
    P, Q = m.dims["P"], m.dims["Q"]
    N = [Q, m.dims["N1"], m.dims["N2"], m.dims["N3"]]
    s = _shapes(m)
    assert s["x"] == s["a0"] == (P, Q)          # x^p = (x_1, ..., x_Q), a^{p,0} = x^p
    for l in range(3):                          # w^l_{n_l n_{l+1}}, bias w^l_{0 n_{l+1}}
        assert s[f"w{l}"] == (N[l], N[l + 1])
        assert s[f"w{l}_bias"] == (N[l + 1],)
        assert s[f"z{l + 1}"] == (P, N[l + 1])  # z^{p,l+1}_{n_{l+1}}
    assert s["h"] == s["y"] == s["c"] == (P, N[3])  # h^p_{n_L}, y^p_{n_L}, c^p_{n_L}
    assert s["C"] == ()                          # eq (2): one number, summed over p and n_L


def test_002_section_models():
    mod = _load("index_notation_general_backprop")
    assert _shapes(mod.MODEL_ONE_OUTPUT)["h"] == (3, 1)            # section 2: N_L = 1
    s = _shapes(mod.MODEL_221)                                      # section 5: 2-2-1, P = 2
    assert s["x"] == (2, 2) and s["a1"] == (2, 2) and s["h"] == (2, 1)
    assert s["w1"] == (2, 1)                                        # w^1_{n_1}: one output, second index dropped
    assert mod.MODEL_SIGMOID.sense == "maximise" and mod.MODEL_221.sense == "maximise"  # eq (12) has no minus sign
    assert any("maximise" in f or "log-likelihood" in f for f in mod.DERIVATION.findings)


# ------------------------------------------------------------------ 003
def test_003_shapes_match_document():
    mod = _load("tanh_softmax_2_500_2")
    m = mod.MODEL
    s = _shapes(m)
    assert s["x"] == (1, 2)                     # x in R^2, used as a row: z1 = x W1 + b1
    assert s["W1"] == (2, 500) and s["b1"] == (500,)
    assert s["W2"] == (500, 2) and s["b2"] == (2,)
    assert s["z1"] == s["a1"] == (1, 500)
    assert s["z2"] == s["yhat"] == s["s2"] == (1, 2)
    assert s["Loss"] == ()


def test_003_stated_gradients_do_not_fit():
    """Findings: x^T (1 - tanh^2 Z1)(y - y^) W2^T and (1 - tanh^2 Z1)(y - y^) W2^T cannot be multiplied;
    dz2/dtanh(z1) = z2 has shape 1 x 2, not 2 x 500."""
    mod = _load("tanh_softmax_2_500_2")
    m = mod.MODEL
    v = m.forward(_point(m))
    d = mod.DERIVATION
    with pytest.raises(ValueError):
        d.claim("dLoss_dW1").formula(v["x"], v["a1"], v["y"], v["s2"], v["W2"])
    with pytest.raises(ValueError):
        d.claim("dLoss_db1").formula(v["a1"], v["y"], v["s2"], v["W2"])
    assert np.shape(d.claim("dz2_dtanh_z1").formula(v["z2"])) == (1, 2)
    assert np.shape(d.claim("dz2_dtanh_z1_repaired").formula(v["W2"])) == (2, 500)
    assert np.shape(d.claim("dLoss_dW1_repaired").formula(v["x"], v["a1"], v["y"], v["s2"], v["W2"])) == (2, 500)
    # the b gradients come out as rows, b in R^n: equal up to the singleton axis
    assert np.shape(d.claim("dLoss_db1_repaired").formula(v["a1"], v["y"], v["s2"], v["W2"])) == (1, 500)
    assert np.shape(d.claim("dLoss_db2").formula(v["y"], v["s2"])) == (1, 2)


@pytest.mark.parametrize("name", ["relu_softmax_single_example", "index_notation_general_backprop",
                                  "tanh_softmax_2_500_2"])
def test_every_claim_states_its_expectation(name):
    d = _load(name).DERIVATION
    assert d.claims and d.findings and d.notation
    for c in d.claims:
        assert c.expect and c.reason and c.latex and c.locator, c.name
