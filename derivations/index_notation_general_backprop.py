"""Backpropagation (June 21, 2017): derivation of the backpropagation equations in the general case,
in index notation (document 002).

Source: ``002_e72219ab9be5a39d.txt``. Sections: 1 general case, eqs (1)-(10); 2 one output layer,
(11); 3 sigmoid activation, (12)-(13); 4 two-layer network, (14); 5 the 2-2-1 architecture with
sigmoid activation, (15).

Notation (as in the document; our names in the second column)

| document                          | here                 | shape            | meaning                                             |
|-----------------------------------|----------------------|------------------|-----------------------------------------------------|
| P, Q                              | ``P``, ``Q``         | --               | data points; features per data point                |
| N_l                               | ``N1``, ``N2``, ...  | --               | nodes in layer l; N_0 = Q, N_L = number of outputs   |
| x_q^p = a_{n_0}^{p,0}             | ``x`` (= ``a0``)     | (P, Q)           | inputs, one row per data point (identity activation)|
| w^l_{n_l n_{l+1}}                 | ``w0``, ``w1``, ...  | (N_l, N_{l+1})   | weight from node n_l of layer l to node n_{l+1}      |
| w^l_{0 n_{l+1}}                   | ``w0_bias``, ...     | (N_{l+1},)       | bias of node n_{l+1}                                |
| z^{p,l}_{n_l}                     | ``z1``, ``z2``, ...  | (P, N_l)         | pre-activation, eq (1): w_0 + sum_{n_l} w a         |
| a^{p,l}_{n_l} = f(z^{p,l}_{n_l})  | ``a1``, ``a2``, ...  | (P, N_l)         | activation                                          |
| h^p_{n_L} = a^{p,L}_{n_L}         | ``h``                | (P, N_L)         | output                                              |
| y^p_{n_L}                         | ``y``                | (P, N_L)         | target                                              |
| c^p_{n_L} = c(y, h)               | ``c``                | (P, N_L)         | cost of one output node at one data point           |
| sum_p c^p_{1}                     | ``c_out1``           | ()               | the per-node cost of output node n_L = 1, summed over p |
| C = sum_p sum_{n_L} c^p_{n_L}     | ``C``                | ()               | eq (2): a SUM over data points and outputs (no 1/P) |

Layout: data points are rows; w^l is indexed (from-node, to-node), so z^{l+1} = a^l w^l + w^l_0.
Derivatives of one c^p_{n_L} with respect to z^{p,l} are read as arrays over (p, n_l) with n_L
fixed to 1 (the scalar ``c_out1``: c^p_1 depends only on data point p, so d c_out1 / d z^{p,l} is
d c^p_1 / d z^{p,l}); derivatives of C are arrays of the shape of the weight.

Models. Sections 1-2 and 4 leave f and c general; we take f = tanh in every layer (input layer:
identity) and the per-node squared error c = (h - y)^2 / 2, minimised. Section 3 and 5 use sigmoid
activations with c = y log h + (1 - y) log(1 - h), eq (12): a log-LIKELIHOOD (no minus sign), so
those models have ``sense="maximise"``; one extra model minimises -c to show the sign.

| model                | L | widths N_0..N_L | P | f, c                               |
|----------------------|---|-----------------|---|------------------------------------|
| ``MODEL``            | 3 | 2-4-5-3         | 3 | tanh, squared error (minimise)     |
| ``MODEL_ONE_OUTPUT`` | 3 | 2-4-5-1         | 3 | tanh, squared error (minimise)     |
| ``MODEL_SIGMOID``    | 3 | 2-4-5-3         | 3 | sigmoid, eq (12) (maximise)        |
| ``MODEL_SIGMOID_LOSS``| 3 | 2-4-5-3        | 3 | sigmoid, -eq (12) (minimise)       |
| ``MODEL_TWO_LAYER``  | 2 | 2-4-3           | 3 | tanh, squared error (minimise)     |
| ``MODEL_221``        | 2 | 2-2-1           | 2 | sigmoid, eq (12) (maximise)        |

The general equations are instantiated at concrete layers: (4)-(8) at l = 1 (weights w^1, z^2,
z^3), (9) at l = 0 (z^1 from z^2, gradients of w^0 with a^0 = x), (10), (11), (13) at l = L = 3
(z^2 from z^3, gradients of w^1).
"""

from __future__ import annotations

from gradcheck import Claim, Data, Derivation, Model
from gradcheck.ops import einsum, eye, identity, log, ones, sigmoid, sum, tanh


def exact_eye(n):
    """The n x n identity as an integer array (float 1.0 entries would cost the SymPy oracle its exactness)."""
    return (eye(n) > 0.5) * 1


def tanh_prime(z):
    return 1 - tanh(z) ** 2


def squared_error(h, y):
    return (h - y) ** 2 / 2


def log_likelihood(h, y):  # eq (12), as written: no minus sign
    return y * log(h) + (1 - y) * log(1 - h)


def _three_layer(f, cost):
    return [
        ("a0", lambda x: identity(x)),
        ("z1", lambda a0, w0, w0_bias: a0 @ w0 + w0_bias),
        ("a1", lambda z1: f(z1)),
        ("z2", lambda a1, w1, w1_bias: a1 @ w1 + w1_bias),
        ("a2", lambda z2: f(z2)),
        ("z3", lambda a2, w2, w2_bias: a2 @ w2 + w2_bias),
        ("h", lambda z3: f(z3)),
        ("c", lambda h, y: cost(h, y)),
        ("c_out1", lambda c: sum(c[:, 0])),
        ("C", lambda c: sum(c)),
    ]


def _three_layer_params():
    return {"w0": ("Q", "N1"), "w0_bias": ("N1",), "w1": ("N1", "N2"), "w1_bias": ("N2",),
            "w2": ("N2", "N3"), "w2_bias": ("N3",)}


DIMS = {"P": 3, "Q": 2, "N1": 4, "N2": 5, "N3": 3}
SYMBOLIC_DIMS = {"P": 2, "Q": 2, "N1": 3, "N2": 4, "N3": 2}  # smaller, still distinct widths, for SymPy

MODEL = Model(
    name="general L = 3 network 2-4-5-3, f = tanh, c = (h - y)^2 / 2, C = sum over p and n_L",
    dims=DIMS, data={"x": Data(("P", "Q")), "y": Data(("P", "N3"))},
    params=_three_layer_params(), steps=_three_layer(tanh, squared_error), objective="C",
    symbolic_dims=SYMBOLIC_DIMS,
)
MODEL_ONE_OUTPUT = Model(
    name="section 2: one output neuron, 2-4-5-1, f = tanh, squared error",
    dims={**DIMS, "N3": 1}, data={"x": Data(("P", "Q")), "y": Data(("P", "N3"))},
    params=_three_layer_params(), steps=_three_layer(tanh, squared_error), objective="C",
    symbolic_dims={**SYMBOLIC_DIMS, "N3": 1},
)
_SIGMOID_STEPS = _three_layer(sigmoid, log_likelihood)
MODEL_SIGMOID = Model(
    name="section 3: sigmoid everywhere, c = y log h + (1 - y) log(1 - h) (eq 12), maximised",
    dims=DIMS, data={"x": Data(("P", "Q")), "y": Data(("P", "N3"), kind="binary")},
    params=_three_layer_params(), steps=_SIGMOID_STEPS, objective="C", sense="maximise",
    symbolic_dims=SYMBOLIC_DIMS,
)
MODEL_SIGMOID_LOSS = Model(
    name="section 3 as a loss: the usual binary cross-entropy -c, minimised",
    dims=DIMS, data={"x": Data(("P", "Q")), "y": Data(("P", "N3"), kind="binary")},
    params=_three_layer_params(),
    steps=_SIGMOID_STEPS + [("bce", lambda c: -c), ("loss", lambda bce: sum(bce))],
    objective="loss", symbolic_dims=SYMBOLIC_DIMS,
)
TWO_DIMS = {"P": 3, "Q": 2, "N1": 4, "N2": 3}
MODEL_TWO_LAYER = Model(
    name="section 4: two-layer network 2-4-3, f = tanh, squared error",
    dims=TWO_DIMS, data={"x": Data(("P", "Q")), "y": Data(("P", "N2"))},
    params={"w0": ("Q", "N1"), "w0_bias": ("N1",), "w1": ("N1", "N2"), "w1_bias": ("N2",)},
    steps=[
        ("z1", lambda x, w0, w0_bias: x @ w0 + w0_bias),
        ("a1", lambda z1: tanh(z1)),
        ("z2", lambda a1, w1, w1_bias: a1 @ w1 + w1_bias),
        ("h", lambda z2: tanh(z2)),
        ("c", lambda h, y: squared_error(h, y)),
        ("c_out1", lambda c: sum(c[:, 0])),
        ("C", lambda c: sum(c)),
    ],
    objective="C", symbolic_dims=dict(TWO_DIMS),
)
DIMS_221 = {"P": 2, "Q": 2, "N1": 2, "N2": 1}
MODEL_221 = Model(
    name="section 5: the 2-2-1 network, sigmoid activations, P = 2, eq (12) log-likelihood, maximised",
    dims=DIMS_221, data={"x": Data(("P", "Q")), "y": Data(("P", "N2"), kind="binary")},
    params={"w0": ("Q", "N1"), "w0_bias": ("N1",), "w1": ("N1", "N2"), "w1_bias": ("N2",)},
    steps=[
        ("z1", lambda x, w0, w0_bias: x @ w0 + w0_bias),
        ("a1", lambda z1: sigmoid(z1)),
        ("z2", lambda a1, w1, w1_bias: a1 @ w1 + w1_bias),
        ("h", lambda z2: sigmoid(z2)),
        ("c", lambda h, y: log_likelihood(h, y)),
        ("C", lambda c: sum(c)),
    ],
    objective="C", sense="maximise", symbolic_dims=dict(DIMS_221),
)

# the same network with 4 data points: system (15) sums p from 1 to 2, which is all of them only when P = 2
MODEL_221_P4 = Model(
    name="section 5 network with P = 4 data points (the bound of system (15)'s sums checked at another size)",
    dims={**DIMS_221, "P": 4}, data=MODEL_221.data, params=MODEL_221.params, steps=MODEL_221.steps,
    objective="C", sense="maximise", symbolic_dims={**DIMS_221, "P": 4},
)

SIGN = ("eq (12) is the log-likelihood y log h + (1 - y) log(1 - h) (no minus sign), a quantity to maximise; "
        "judged against it as written")
PER_NODE = "d c^p_{n_L} / d z^{p,l}: n_L fixed to 1 (c_out1 = sum_p c^p_1), array over (p, n_l)"

CLAIMS = (
    # ------------------------------------------------------------ section 1, general case
    Claim(
        "dC_dw_sum_rule", wrt="w1", of="C", kind="gradient",
        uses={"dc_dw1": ("c", "w1")},
        formula=lambda dc_dw1: sum(dc_dw1, axis=(0, 1)),
        latex=r"\frac{\partial C}{\partial w_{n_l n_{l+1}}^l} = \sum_{p=1}^P \sum_{n_L=1}^{N_L} "
              r"\frac{\partial c_{n_L}^p}{\partial w_{n_l n_{l+1}}^l}",
        locator="section 1, eq (3), at l = 1", expect="correct",
        reason="C is the plain sum of the c^p_{n_L} (eq 2), so its derivative is the sum of theirs.",
    ),
    Claim(
        "dc_dw_chain_rule", wrt="w1", of="c_out1", kind="gradient",
        uses={"dc1_dz2": ("c_out1", "z2")},
        # entry (n_1, n_2) for each p; summing the per-p terms gives d c_out1 / d w^1
        formula=lambda dc1_dz2, a1: einsum("pj,pi->ij", dc1_dz2, a1),
        latex=r"\frac{\partial c_{n_L}^p}{\partial w_{n_l n_{l+1}}^l} = \frac{\partial c_{n_L}^p}{\partial z_{n_{l+1}}^{p,l+1}} "
              r"\frac{\partial z_{n_{l+1}}^{p,l+1}}{\partial w_{n_l n_{l+1}}^l}",
        locator="section 1, eq (4) ('using the derivative chain rule'), l = 1, with (6) for the second factor",
        convention=PER_NODE + "; summed over p as c_out1 is",
        expect="correct", reason="w^l_{n_l n_{l+1}} reaches c^p only through z^{p,l+1}_{n_{l+1}}: one term, no sum needed.",
    ),
    Claim(
        "dz_dbias", wrt="w1_bias", of="z2", kind="jacobian",
        formula=lambda P, N2: (ones((P, 1, 1)) > 0.5) * exact_eye(N2)[None, :, :],
        latex=r"\frac{\partial z_{n_{l+1}}^{p,l+1}}{\partial w_{0n_{l+1}}^{l}} = 1",
        locator="section 1, eq (5), l = 1",
        expect="correct", reason="z^{p,l+1}_{n} = w^l_{0n} + ...: derivative 1 for the same node (0 for other nodes).",
    ),
    Claim(
        "dz_dw", wrt="w1", of="z2", kind="jacobian",
        formula=lambda a1, N2: exact_eye(N2)[None, :, None, :] * a1[:, None, :, None],
        latex=r"\frac{\partial z_{n_{l+1}}^{p,l+1}}{\partial w_{n_{l}n_{l+1}}^{l}} = a_{n_{l}}^{p,l}",
        locator="section 1, eq (6), l = 1",
        expect="correct", reason="eq (1) is linear in w^l with coefficient a^{p,l}_{n_l} for the node n_{l+1} it feeds.",
    ),
    Claim(
        "dc_dz_chain_rule", wrt="z2", of="c_out1", kind="recursion",
        uses={"dc1_dz3": ("c_out1", "z3"), "dz3_dz2": ("z3", "z2")},
        formula=lambda dc1_dz3, dz3_dz2, P: einsum("pk,pkqn->pqn", dc1_dz3, dz3_dz2)[list(range(P)), list(range(P))],
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l+1}}^{p,l+1}} = \sum_{n_{l+2}=1}^{N_{l+2}} "
              r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l+2}}^{p,l+2}} \frac{\partial z_{n_{l+2}}^{p,l+2}}{\partial z_{n_{l+1}}^{p,l+1}}",
        locator="section 1, eq (7), l = 1 (true d z^{p,3} / d z^{p,2} for the second factor)",
        convention=PER_NODE,
        expect="correct", reason="z^{p,l+1} reaches c^p only through the nodes of z^{p,l+2}: the multivariate chain rule.",
    ),
    Claim(
        "dz_next_dz", wrt="z2", of="z3", kind="jacobian",
        formula=lambda w2, z2, P: exact_eye(P)[:, None, :, None] * w2.T[None, :, None, :] * tanh_prime(z2)[None, None, :, :],
        latex=r"\frac{\partial z_{n_{l+2}}^{p,l+2}}{z_{n_{l+1}}^{p,l+1}} = w_{n_{l+1}n_{l+2}}^{l+1} f'(z_{n_{l+1}}^{p,l+1})",
        locator="section 1, eq (8), l = 1 (the denominator lacks its partial sign in the source; read as d z)",
        expect="correct", reason="z^{l+2} = w_0 + sum w^{l+1} f(z^{l+1}): derivative w^{l+1}_{n_{l+1} n_{l+2}} f'(z), same p only.",
    ),
    Claim(
        "delta_recursion_eq9", wrt="z1", of="c_out1", kind="recursion",
        uses={"dc1_dz2": ("c_out1", "z2")},
        formula=lambda z1, w1, dc1_dz2: tanh_prime(z1) * einsum("ij,pj->pi", w1, dc1_dz2),
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l+1}}^{p,l+1}} = f'(z_{n_{l+1}}^{p,l+1}) \sum_{n_{l+2}=1}^{N_{l+2}} "
              r"w_{n_{l+1}n_{l+2}}^{l+1} \frac{\partial c_{n_L}^p}{\partial z_{n_{l+2}}^{p,l+2}}",
        locator="section 1, system (9), first line (also the unnumbered display after (8)), l = 0",
        convention=PER_NODE,
        expect="correct", reason="(7) with (8) substituted; f' does not depend on n_{l+2} and comes out of the sum.",
    ),
    Claim(
        "dC_dbias_eq9", wrt="w0_bias", of="C", kind="gradient",
        uses={"dC_dz1": ("C", "z1")},
        formula=lambda dC_dz1: sum(dC_dz1, axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_{l+1}}^l} = \sum_{p=1}^P \sum_{n_L=1}^{N_L} \frac{\partial c_{n_L}^p}{\partial z_{n_{l+1}}^{p,l+1}}",
        locator="section 1, system (9), second line, l = 0",
        expect="correct", reason="(3) with (4) and (5): the bias gradient sums the error signal over p and n_L.",
    ),
    Claim(
        "dC_dw_eq9", wrt="w0", of="C", kind="gradient",
        uses={"dC_dz1": ("C", "z1")},
        formula=lambda a0, dC_dz1: einsum("pi,pj->ij", a0, dC_dz1),
        latex=r"\frac{\partial C}{\partial w_{n_ln_{l+1}}^l} = \sum_{p=1}^P a_{n_l}^{p,l} \sum_{n_L=1}^{N_L} "
              r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l+1}}^{p,l+1}}",
        locator="section 1, system (9), third line, l = 0 (a^{p,0} = x^p)",
        expect="correct", reason="(3) with (4) and (6); a^{p,l}_{n_l} does not depend on n_L and comes out of the inner sum.",
    ),
    Claim(
        "delta_recursion_eq10", wrt="z2", of="c_out1", kind="recursion",
        uses={"dc1_dz3": ("c_out1", "z3")},
        formula=lambda z2, w2, dc1_dz3: tanh_prime(z2) * einsum("ij,pj->pi", w2, dc1_dz3),
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}} = f'(z_{n_{l-1}}^{p,l-1}) \sum_{n_l=1}^{N_l} "
              r"w_{n_{l-1}n_l}^{l-1} \frac{\partial c_{n_L}^p}{\partial z_{n_l}^{p,l}}",
        locator="section 1, system (10), first line, l = L = 3",
        convention=PER_NODE,
        expect="correct", reason="(9) relabelled l+1 -> l-1, l+2 -> l; consistent, with w^{l-1} joining layers l-1 and l.",
    ),
    Claim(
        "dC_dbias_eq10", wrt="w1_bias", of="C", kind="gradient",
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda dC_dz2: sum(dC_dz2, axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_{l-1}}^{l-2}} = \sum_{p=1}^{P} \sum_{n_L=1}^{N_L} \frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 1, system (10), second line, l = L = 3",
        expect="correct", reason="w^{l-2}_0 feeds z^{l-1}: same as (9) relabelled.",
    ),
    Claim(
        "dC_dw_eq10", wrt="w1", of="C", kind="gradient",
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda a1, dC_dz2: einsum("pi,pj->ij", a1, dC_dz2),
        latex=r"\frac{\partial C}{\partial w_{n_{l-2}n_{l-1}}^{l-2}} = \sum_{p=1}^{P} a_{n_{l-2}}^{p,l-2} \sum_{n_L=1}^{N_L} "
              r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 1, system (10), third line, l = L = 3",
        expect="correct", reason="w^{l-2} joins layer l-2 (activations a^{l-2}) to layer l-1: same as (9) relabelled.",
    ),
    # ------------------------------------------------------------ section 2, one output neuron
    Claim(
        "delta_recursion_eq11", wrt="z2", of="C", kind="recursion", model=MODEL_ONE_OUTPUT,
        uses={"dc_dz3": ("C", "z3")},
        formula=lambda z2, w2, dc_dz3: tanh_prime(z2) * w2[:, 0][None, :] * dc_dz3[:, 0:1],
        latex=r"\frac{\partial c^{p}}{\partial z_{n_{l-1}}^{p,l-1}} = f'(z_{n_{l-1}}^{p,l-1}) w_{n_{l-1}n_{l}}^{l-1} "
              r"\frac{\partial c^{p}}{\partial z_{n_{l}}^{p,l}}",
        locator="section 2 ('One output layer'), system (11), first line, l = L = 3, N_L = 1",
        expect="correct", reason="with N_L = 1 the sum over n_l has one term, n_l = the single output node.",
    ),
    Claim(
        "dC_dbias_eq11", wrt="w1_bias", of="C", kind="gradient", model=MODEL_ONE_OUTPUT,
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda dC_dz2: sum(dC_dz2, axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_{l-1}}^{l-2}} = \sum_{p=1}^{P} \frac{\partial c^{p}}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 2, system (11), second line",
        expect="correct", reason="(10) with the sum over the single output dropped.",
    ),
    Claim(
        "dC_dw_eq11", wrt="w1", of="C", kind="gradient", model=MODEL_ONE_OUTPUT,
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda a1, dC_dz2: einsum("pi,pj->ij", a1, dC_dz2),
        latex=r"\frac{\partial C}{\partial w_{n_{l-2}n_{l-1}}^{l-2}} = \sum_{p=1}^{P} a_{n_{l-2}}^{p,l-2} "
              r"\frac{\partial c^{p}}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 2, system (11), third line",
        expect="correct", reason="(10) with the sum over the single output dropped.",
    ),
    # ------------------------------------------------------------ section 3, sigmoid, eq (12)
    Claim(
        "delta_output_eq13", wrt="z3", of="c", kind="elementwise", model=MODEL_SIGMOID,
        formula=lambda y, h: y - h,
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_L}^{p,L}} = y_{n_L}^p - h_{n_L}^p",
        locator="section 3, 'It can be checked that ...' and system (13), first line",
        convention=SIGN,
        expect="correct", reason="d/dz [y log s + (1-y) log(1-s)] = y(1-s) - (1-y)s = y - s for s = sigmoid(z).",
    ),
    Claim(
        "cost_eq12_as_loss", wrt="z3", of="loss", kind="value", model=MODEL_SIGMOID_LOSS,
        formula=lambda y, h: sum(y * log(h) + (1 - y) * log(1 - h)),
        latex=r"C = \sum_{p=1}^{P} \sum_{n_L=1}^{N_L} c_{n_L}^p, \quad c_{n_L}^p = y_{n_L}^p \log(h_{n_L}^p) + (1 - y_{n_L}^p) \log(1 - h_{n_L}^p)",
        locator="section 3, eq (12) with eq (2), against the cost to minimise (the usual binary cross-entropy)",
        expect="incorrect", expect_diagnosis="sign flip",
        reason="value check: eq (12) summed as in eq (2) is compared with the binary cross-entropy "
               "-sum [y log h + (1-y) log(1-h)]; without a minus sign it is the log-likelihood, the negative of "
               "the cost a gradient-descent method minimises.",
    ),
    Claim(
        "delta_output_eq13_as_loss", wrt="z3", of="bce", kind="elementwise", model=MODEL_SIGMOID_LOSS,
        formula=lambda y, h: y - h,
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_L}^{p,L}} = y_{n_L}^p - h_{n_L}^p",
        locator="section 3, system (13), first line, read against the usual minimised cross-entropy -c",
        convention="the cost taken as the usual loss -[y log h + (1-y) log(1-h)] (not what eq (12) says)",
        expect="incorrect", expect_diagnosis="sign flip",
        reason="for the binary cross-entropy that is minimised the derivative is h - y: y - h is right only for eq (12)'s sign.",
    ),
    Claim(
        "delta_recursion_eq13", wrt="z2", of="c_out1", kind="recursion", model=MODEL_SIGMOID,
        uses={"dc1_dz3": ("c_out1", "z3")},
        formula=lambda a2, w2, dc1_dz3: a2 * (1 - a2) * einsum("ij,pj->pi", w2, dc1_dz3),
        latex=r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}} = a_{n_{l-1}}^{p,l-1} (1 - a_{n_{l-1}}^{p,l-1}) "
              r"\sum_{n_l=1}^{N_l} w_{n_{l-1}n_l}^{l-1} \frac{\partial c_{n_L}^p}{\partial z_{n_l}^{p,l}}",
        locator="section 3, system (13), second line, l = L = 3",
        convention=PER_NODE,
        expect="correct", reason="(10) with f' = sigmoid' = a(1 - a) for a = sigmoid(z).",
    ),
    Claim(
        "dC_dbias_eq13", wrt="w1_bias", of="C", kind="gradient", model=MODEL_SIGMOID,
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda dC_dz2: sum(dC_dz2, axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_{l-1}}^{l-2}} = \sum_{p=1}^P \sum_{n_L=1}^{N_L} \frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 3, system (13), third line",
        expect="correct", reason="unchanged from (10): holds for any activation and cost.",
    ),
    Claim(
        "dC_dw_eq13", wrt="w1", of="C", kind="gradient", model=MODEL_SIGMOID,
        uses={"dC_dz2": ("C", "z2")},
        formula=lambda a1, dC_dz2: einsum("pi,pj->ij", a1, dC_dz2),
        latex=r"\frac{\partial C}{\partial w_{n_{l-2}n_{l-1}}^{l-2}} = \sum_{p=1}^P a_{n_{l-2}}^{p,l-2} \sum_{n_L=1}^{N_L} "
              r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 3, system (13), fourth line",
        expect="correct", reason="unchanged from (10).",
    ),
    # ------------------------------------------------------------ section 4, two-layer network
    Claim(
        "delta_hidden_eq14", wrt="z1", of="c_out1", kind="recursion", model=MODEL_TWO_LAYER,
        uses={"dc1_dz2": ("c_out1", "z2")},
        # as written: the sum runs over n_l but the derivative is taken at z_{n_2}, the cost's own node:
        # f'(z_{n_1}) (sum_{n_l} w^1_{n_1 n_l}) dc_{n_2}/dz_{n_2}, with n_2 = 1
        formula=lambda z1, w1, dc1_dz2: tanh_prime(z1) * sum(w1, axis=1)[None, :] * dc1_dz2[:, 0:1],
        latex=r"\frac{\partial c_{n_2}^p}{\partial z_{n_1}^{p,1}} = f'(z_{n_1}^{p,1}) \sum_{n_l=1}^{N_2} w_{n_1 n_l}^1 "
              r"\frac{\partial c_{n_2}^p}{\partial z_{n_2}^{p,2}}",
        locator="section 4 ('Two-layer network'), system (14), first line",
        convention=PER_NODE,
        expect="incorrect", expect_diagnosis="no simple relation",
        reason="the summation index n_l is not the index of z^{p,2}_{n_2} (it clashes with the cost's n_2): as written "
               "it sums the weights alone instead of w^1_{n_1 n} dc/dz_n.",
    ),
    Claim(
        "delta_hidden_eq14_repaired", wrt="z1", of="c_out1", kind="recursion", model=MODEL_TWO_LAYER,
        uses={"dc1_dz2": ("c_out1", "z2")},
        formula=lambda z1, w1, dc1_dz2: tanh_prime(z1) * einsum("ij,pj->pi", w1, dc1_dz2),
        latex=r"\frac{\partial c_{n_2}^p}{\partial z_{n_1}^{p,1}} = f'(z_{n_1}^{p,1}) \sum_{n'_2=1}^{N_2} w_{n_1 n'_2}^1 "
              r"\frac{\partial c_{n_2}^p}{\partial z_{n'_2}^{p,2}}",
        locator="repair of system (14), first line: one summation index for w and z",
        convention=PER_NODE,
        expect="correct", reason="(10) at L = 2 with a summation index distinct from the cost's output index.",
    ),
    Claim(
        "dC_dbias_eq14", wrt="w0_bias", of="C", kind="gradient", model=MODEL_TWO_LAYER,
        uses={"dC_dz1": ("C", "z1")},
        formula=lambda dC_dz1: sum(dC_dz1, axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_1}^0} = \sum_{p=1}^P \sum_{n_2=1}^{N_2} \frac{\partial c_{n_2}^p}{\partial z_{n_1}^{p,l-1}}",
        locator="section 4, system (14), second line (z^{p,l-1} with l = L = 2 is z^{p,1})",
        expect="correct", reason="(10) at L = 2.",
    ),
    Claim(
        "dC_dw_eq14", wrt="w0", of="C", kind="gradient", model=MODEL_TWO_LAYER,
        uses={"dC_dz1": ("C", "z1")},
        formula=lambda x, dC_dz1: einsum("pq,pn->qn", x, dC_dz1),
        latex=r"\frac{\partial C}{\partial w_{qn_1}^0} = \sum_{p=1}^P x_q^p \sum_{n_L=1}^{N_L} "
              r"\frac{\partial c_{n_L}^p}{\partial z_{n_{l-1}}^{p,l-1}}",
        locator="section 4, system (14), third line (n_0 = q, a^{p,0}_q = x^p_q)",
        expect="correct", reason="(10) at L = 2 with the input layer's identity activation.",
    ),
    # ------------------------------------------------------------ section 5, 2-2-1 sigmoid
    Claim(
        "dC_dbias_221", wrt="w0_bias", of="C", kind="gradient", model=MODEL_221,
        formula=lambda w1, a1, y, h: w1[:, 0] * sum(a1 * (1 - a1) * (y - h), axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_1}^0} = w_{n_1}^1 \sum_{p=1}^2 a_{n_1}^{p,1} (1 - a_{n_1}^{p1}) (y^p - h^p)",
        locator="section 5 ('The 2-2-1 architecture with sigmoid activation'), system (15), first line",
        convention=SIGN,
        expect="correct", reason="(13) with one output: w^1_{n_1} does not depend on p, so it may stand outside the sum.",
    ),
    Claim(
        "dC_dbias_221_bound_2", wrt="w0_bias", of="C", kind="gradient", model=MODEL_221_P4,
        formula=lambda w1, a1, y, h: w1[:, 0] * sum((a1 * (1 - a1) * (y - h))[0:2], axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_1}^0} = w_{n_1}^1 \sum_{p=1}^2 a_{n_1}^{p,1} (1 - a_{n_1}^{p1}) (y^p - h^p)",
        locator="section 5, system (15), first line: the bound 2 of the sum over data points, checked with P = 4",
        convention=SIGN,
        expect="incorrect",
        reason="the sum over data points stops at 2: right only when there are exactly P = 2 data points (the "
               "document never says P = 2); eq (2) sums p up to P.",
    ),
    Claim(
        "dC_dbias_221_bound_2_repaired", wrt="w0_bias", of="C", kind="gradient", model=MODEL_221_P4,
        formula=lambda w1, a1, y, h: w1[:, 0] * sum(a1 * (1 - a1) * (y - h), axis=0),
        latex=r"\frac{\partial C}{\partial w_{0n_1}^0} = w_{n_1}^1 \sum_{p=1}^P a_{n_1}^{p,1} (1 - a_{n_1}^{p,1}) (y^p - h^p)",
        locator="repair of system (15), first line: the sum runs over all P data points",
        convention=SIGN,
        expect="correct", reason="eq (2) sums the cost over p = 1..P.",
    ),
    Claim(
        "dC_dw_221", wrt="w0", of="C", kind="gradient", model=MODEL_221,
        formula=lambda w1, x, a1, y, h: w1[:, 0][None, :] * einsum("pq,pn->qn", x, a1 * (1 - a1) * (y - h)),
        latex=r"\frac{\partial C}{\partial w_{qn_1}^0} = w_{n_1}^1 \sum_{p=1}^2 x_q^p a_{n_1}^{p,1} (1 - a_{n_1}^{p1}) (y^p - h^p)",
        locator="section 5, system (15), second line",
        convention=SIGN,
        expect="correct", reason="(14) with sigmoid f' = a(1 - a), d = y - h and the single output weight w^1_{n_1}.",
    ),
    Claim(
        "dC_dw_221_bound_2", wrt="w0", of="C", kind="gradient", model=MODEL_221_P4,
        formula=lambda w1, x, a1, y, h: w1[:, 0][None, :] * einsum("pq,pn->qn", x[0:2], (a1 * (1 - a1) * (y - h))[0:2]),
        latex=r"\frac{\partial C}{\partial w_{qn_1}^0} = w_{n_1}^1 \sum_{p=1}^2 x_q^p a_{n_1}^{p,1} (1 - a_{n_1}^{p1}) (y^p - h^p)",
        locator="section 5, system (15), second line: the bound 2 of the sum over data points, checked with P = 4",
        convention=SIGN,
        expect="incorrect", reason="as for the first line: the bound 2 is P only when there are 2 data points.",
    ),
    Claim(
        "dC_dw_221_bound_2_repaired", wrt="w0", of="C", kind="gradient", model=MODEL_221_P4,
        formula=lambda w1, x, a1, y, h: w1[:, 0][None, :] * einsum("pq,pn->qn", x, a1 * (1 - a1) * (y - h)),
        latex=r"\frac{\partial C}{\partial w_{qn_1}^0} = w_{n_1}^1 \sum_{p=1}^P x_q^p a_{n_1}^{p,1} (1 - a_{n_1}^{p,1}) (y^p - h^p)",
        locator="repair of system (15), second line: the sum runs over all P data points",
        convention=SIGN,
        expect="correct", reason="eq (2) sums the cost over p = 1..P.",
    ),
)

SYMBOLS = {
    "x": "x", "y": "y", "h": "h", "c": "c", "C": "C", "loss": r"-C", "bce": r"-c",
    "log_likelihood": r"#2 \log #1 + (1 - #2) \log(1 - #1)", "c_out1": r"\sum_p c^p_1",
    "a0": "a^{0}", "a1": "a^{1}", "a2": "a^{2}", "z1": "z^{1}", "z2": "z^{2}", "z3": "z^{3}",
    "w0": "w^{0}", "w1": "w^{1}", "w2": "w^{2}", "w0_bias": "w^{0}_{0}", "w1_bias": "w^{1}_{0}", "w2_bias": "w^{2}_{0}",
}

DERIVATION = Derivation(
    id="002",
    symbols=SYMBOLS,
    title="Backpropagation (June 21, 2017): derivation of backpropagation equations in the general case",
    source="002_e72219ab9be5a39d.txt",
    model=MODEL,
    claims=CLAIMS,
    description="Index-notation backpropagation for an L-layer network with P data points, a cost summed over "
                "data points and output nodes, specialised to one output node, sigmoid activations with a "
                "log-likelihood cost, a two-layer network and the 2-2-1 sigmoid network.",
    notation=__doc__.split("Notation (as in the document; our names in the second column)")[1].split("Layout:")[0].strip(),
    conventions="Rows are data points; w^l indexed (from node of layer l, to node of layer l+1), bias w^l_0; "
                "C = sum_p sum_{n_L} c^p_{n_L} (no 1/P). General sections: f = tanh, c = (h - y)^2/2, minimised. "
                "Sections 3 and 5: eq (12) c = y log h + (1 - y) log(1 - h) has no minus sign, so C is a "
                "log-likelihood to MAXIMISE (models with sense='maximise'); d = y - h is its gradient, the "
                "negative of the usual cross-entropy gradient h - y. Per-node derivatives d c^p_{n_L} / d z are "
                "checked for n_L = 1.",
    findings=(
        "Eq (12) calls y log h + (1 - y) log(1 - h) a cost (cost_eq12_as_loss), but without a minus sign it is the log-likelihood: C "
        "must be maximised (gradient ascent) for the stated d = y - h to be a descent direction of anything; as a "
        "loss the sign of every equation built on d = y - h flips (delta_output_eq13_as_loss).",
        "System (14), first line: the summation index n_l does not appear in dc_{n_2}/dz_{n_2} (it clashes with the "
        "cost's own output index n_2 because l = L = 2), so as written the sum multiplies the sum of the weights "
        "w^1_{n_1 n} by the diagonal term; the intended sum is over w^1_{n_1 n} dc/dz_n.",
        "System (14) mixes general and concrete indices (z^{p,l-1}_{n_1}, n_L, n_{l-1} with l = 2); consistent "
        "only when l is read as L = 2.",
        "Eq (15): w^1_{n_1} outside the sum over p is right (the weight does not depend on p; the single output "
        "drops the second index); a(1 - a) is the sigmoid derivative of the hidden layer; (1 - a^{p1}) lacks a comma.",
        "Eq (8) has no partial sign in the denominator (d z / z); eq (1) writes the bias as w_{n_0 n_{l+1}}^l and then "
        "w_{n_0 n_{l+1}} without the layer superscript, elsewhere w_{0 n_{l+1}}^l.",
        "System (15) sums over the data points from p = 1 to 2: right only when there are exactly two data points, "
        "which the document never states; checked with P = 4 (dC_dbias_221_bound_2, dC_dw_221_bound_2).",
        "Section 2 writes N_l = 1 for the output layer (should be N_L = 1); the closing sentence refers to 'U' and "
        "'v', which the document never defines.",
    ),
)
