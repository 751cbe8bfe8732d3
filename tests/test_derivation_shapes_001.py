"""Document 001 (four-layer sigmoid/softmax network): the models reproduce the shapes the
document states, and the document's own W^1 / b^1 / h^1 shapes are inconsistent."""

import numpy as np
import pytest

from derivations.four_layer_sigmoid_softmax import (BATCH_MODEL, DERIVATION, ENTRY_MODEL, FORWARD, MODEL,
                                                    MODEL_AS_WRITTEN, MODEL_Y1)
from gradcheck import Model, ModelError
from gradcheck.points import draw_value


def _point(model, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, d in model.data.items():
        out[name] = (np.asarray(d.value, dtype=float) if d.value is not None
                     else draw_value(rng, model.shape_of(name), d.kind))
    for name in model.params:
        out[name] = draw_value(rng, model.shape_of(name), "real")
    return out


def _shapes(model, seed=0):
    return {k: np.shape(v) for k, v in model.forward(_point(model, seed)).items()
            if k not in model.dims}


# Shapes as the document states them (section in the comment).
STATED = {
    "x": (1, 2),     # Input layer: x = [x_1 x_2]
    "h1": (1, 2),    # Hidden layer 1 / Input layer: h^1 = [h^1_1 h^1_2] = [sigma(z^1_1) sigma(z^1_2)]
    "z1": (1, 2),    # sigma'(z^1) has two entries
    "W2": (2, 4),    # W^2 = [w^2_{1,1} .. w^2_{1,4}; w^2_{2,1} .. w^2_{2,4}]
    "b2": (1, 4),
    "z2": (1, 4),
    "h2": (1, 4),    # Hidden Layer 2: h^2 = [h^2_1 h^2_2 h^2_3 h^2_4]
    "W3": (4, 3),    # W^3 = [w^3_{1,1} .. w^3_{4,3}]
    "b3": (1, 3),
    "z3": (1, 3),    # z^3 = [z^3_1 z^3_2 z^3_3]
    "yhat": (1, 3),  # yhat = [yhat_1 yhat_2 yhat_3]
    "y": (1, 3),
    "H": (),
}


@pytest.mark.parametrize("name", sorted(STATED))
def test_single_sample_shapes_match_the_document(name):
    assert _shapes(MODEL)[name] == STATED[name]


def test_entry_model_is_the_same_network_written_entrywise():
    """ENTRY_MODEL builds z^2, h^2 and W^3 from scalars; at matching values H is identical."""
    p = _point(MODEL, seed=3)
    q = {k: v for k, v in p.items() if k != "W3"}
    q.update({f"w3_{i + 1}{j + 1}": p["W3"][i, j] for i in range(4) for j in range(3)})
    a, b = MODEL.forward(p), ENTRY_MODEL.forward(q)
    assert np.shape(b["h2"]) == (1, 4) and np.shape(b["W3"]) == (4, 3)
    np.testing.assert_allclose(b["z3"], a["z3"], rtol=1e-14)
    np.testing.assert_allclose(b["H"], a["H"], rtol=1e-14)


def test_batch_shapes_three_samples_as_rows():
    s = _shapes(BATCH_MODEL)
    assert s["x"] == (3, 2) and s["h2"] == (3, 4) and s["z3"] == (3, 3) and s["yhat"] == (3, 3)
    assert s["W3"] == (4, 3) and s["b3"] == (1, 3) and s["H"] == ()


def test_one_hot_special_case_fixes_the_label():
    assert _point(MODEL_Y1)["y"].tolist() == [[1.0, 0.0, 0.0]]


def test_w1_as_written_gives_h1_three_entries_not_two():
    """W^1 is written 2x3 and b^1 1x3: then h^1 = sigma(x W^1 + b^1) has 3 entries, but the document
    writes h^1 = [h^1_1 h^1_2] and W^2 with 2 rows."""
    only_layer_1 = Model("layer 1 as written", dims={"n0": 2, "n1_written": 3},
                         data={"x": MODEL_AS_WRITTEN.data["x"]},
                         params={"W1": ("n0", "n1_written"), "b1": (1, "n1_written")},
                         steps=FORWARD[:2] + [("s", lambda h1: h1.sum())], objective="s")
    h1 = only_layer_1.forward(_point(only_layer_1))["h1"]
    assert np.shape(h1) == (1, 3) != STATED["h1"]


def test_w1_as_written_cannot_feed_w2():
    """With the written shapes the forward pass stops at z^2 = h^1 W^2: (1x3) @ (2x4)."""
    with pytest.raises(ModelError, match="z2"):
        MODEL_AS_WRITTEN.forward(_point(MODEL_AS_WRITTEN))


def test_every_claim_has_an_expectation_and_a_reason():
    names = [c.name for c in DERIVATION.claims]
    assert len(names) == len(set(names))
    for c in DERIVATION.claims:
        assert c.expect and c.reason and c.latex and c.locator, c.name
        assert c.name.endswith("_repaired") or "repaired" not in c.name
