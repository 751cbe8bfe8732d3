"""Backpropagation in Neural Networks -- using a single training example per step (document 000).

Source: ``000_bf2223a4ebccccdc.txt`` (lecture-style notes, "Have a look at the simple neural network
presented in the lecture slides"). One hidden ReLU layer, identity output activation followed by a
softmax, cross-entropy plus (lambda/2) sum_l ||W^(l)||^2, one training example, column vectors,
biases folded into the weight matrices.

Notation (as in the document; our names in the second column)

| document            | here       | shape          | meaning                                                       |
|---------------------|------------|----------------|---------------------------------------------------------------|
| x in R^D            | ``x``      | (D,)           | input, column vector                                          |
| y in {0,1}^C        | ``y``      | (C,)           | one-hot label                                                 |
| x~ = [1; x]         | ``xt``     | (D+1,)         | input with a leading 1                                        |
| W~(1) = [b(1) W(1)] | ``Wt1``    | (H, D+1)       | hidden weights, bias in column 0                              |
| Z(2) = W~(1) x~     | ``Z2``     | (H,)           | hidden pre-activation                                         |
| A(2) = max(0, Z(2)) | ``A2``     | (H,)           | hidden activation (phi(2) = ReLU)                             |
| A~(2) = [1; A(2)]   | ``At2``    | (H+1,)         | hidden activation with a leading 1                            |
| W~(2) = [b(2) W(2)] | ``Wt2``    | (C, H+1)       | output weights, bias in column 0                              |
| Z(3) = W~(2) A~(2)  | ``Z3``     | (C,)           | output pre-activation                                         |
| A(3) = id(Z(3))     | ``A3``     | (C,)           | output activation (phi(3) = identity)                         |
| h_{W,b}(x)          | ``h``      | (C,)           | softmax(A(3)) = softmax(Z(3))                                 |
| J(W, b)             | ``J``      | ()             | -sum_k y_k log h_k + lambda/2 (\\|W(1)\\|^2 + \\|W(2)\\|^2)       |
| (data term of J)    | ``ce``     | ()             | -sum_k y_k log h_k (what the chain rule of the document uses) |
| Delta(l)_j          | --         | like Z(l)      | error signal, dJ/dZ(l)_j                                      |
| eta, lambda         | ``eta``, ``lam`` | ()       | learning rate, weight decay                                   |

Layout: W~(l)_{i,j} is the weight from the j-th output component of layer l (A(l)_j, with the
leading 1 as component 0) to the i-th neuron of layer l+1, so Z(l+1)_i = sum_j W~(l)_{i,j} A~(l)_j
(rows = neurons of the next layer). Single example: no sum or mean over examples. The loss is
minimised. The regularisation acts on W(l) only (not on the bias column), as the document writes
||W(l)||^2.

Dimensions chosen: D = 2, H = 4, C = 3, so W~(1) is 4x3 and W~(2) is 3x5: neither is square, so an
index swap shows as a transposed shape.
"""

from __future__ import annotations

import numpy as np

from gradcheck import Claim, Data, Derivation, Model
from gradcheck.ops import concatenate, exp, eye, identity, log, outer, relu, sign_of_real, softmax, sum

DIMS = {"D": 2, "H": 4, "C": 3, "D1": 3, "H1": 5}  # D1 = D + 1, H1 = H + 1 (leading 1 for the bias)


def exact_eye(n):
    """The n x n identity as an integer array (keeps SymPy values exact)."""
    return (eye(n) > 0.5) * 1


def relu_prime(z):
    """phi'(z) for phi = max(0, z), away from 0: 1 where z > 0, else 0."""
    return (1 + sign_of_real(z)) / 2  # 0 or 1 on every backend (SymPy included: no Relational)


def identity_prime(z):
    """phi'(z) = 1 for phi = id, written as 0 z + 1 so that SymPy values stay exact integers."""
    return 0 * z + 1


STEPS = [
    ("xt", lambda one, x: concatenate([one, x])),
    ("Z2", lambda Wt1, xt: Wt1 @ xt),
    ("A2", lambda Z2: relu(Z2)),
    ("At2", lambda one, A2: concatenate([one, A2])),
    ("Z3", lambda Wt2, At2: Wt2 @ At2),
    ("A3", lambda Z3: identity(Z3)),
    ("h", lambda A3: softmax(A3)),
    ("ce", lambda y, h: -sum(y * log(h))),
    ("J", lambda ce, Wt1, Wt2, lam: ce + lam / 2 * (sum(Wt1[:, 1:] ** 2) + sum(Wt2[:, 1:] ** 2))),
]

_COMMON = dict(
    dims=DIMS,
    symbolic_dims=dict(DIMS),  # keep D1 = D + 1 and H1 = H + 1 for the symbolic oracle
    second_dims={"D": 7, "H": 11, "C": 13, "D1": 8, "H1": 12},  # the second size keeps D1 = D + 1, H1 = H + 1
    # the leading 1 of x~ and A~(2) is a literal input, so the symbolic oracle sees an exact 1
    data={"x": Data(("D",)), "y": Data(("C",), kind="one_hot"), "one": Data((1,), value=np.ones(1))},
    params={"Wt1": ("H", "D1"), "Wt2": ("C", "H1")},
    constants={"lam": 0.1, "eta": 0.5},
    steps=STEPS,
)

MODEL = Model(name="D-H-C ReLU / identity + softmax, cross-entropy + L2, one example (column vectors)",
              objective="J", **_COMMON)
# The chain rule, the error signals and the update "[+ regularization]" of the document are written for
# the data term only; they are judged against the cross-entropy alone (same steps, objective "ce").
MODEL_DATA = Model(name="same network, data term only (cross-entropy, lambda term left out)",
                   objective="ce", **_COMMON)

DATA_TERM = ("the document's chain rule leaves the regularisation aside ('[+ regularization]'), so this is "
             "judged against the cross-entropy term alone")

CLAIMS = (
    # ---------------------------------------------------------------- definitions (value checks, no derivative)
    Claim(
        "hypothesis_definition", wrt="Z3", of="h", kind="value",
        formula=lambda A3: exp(A3) / sum(exp(A3)),
        latex=r"h_{W,b}(x) = \frac{1}{\sum_{i=1}^C e^{A^3_i}} e^{A^{(3)}} = \frac{1}{\sum_{i=1}^C e^{Z^3_i}} e^{Z^{(3)}}",
        locator="Forward Pass, 'This is the prediction of the model' (A^3_i and Z^3_i read as A(3)_i, Z(3)_i)",
        expect="correct",
        reason="value check of the definition: the softmax of A(3) = Z(3); the superscripts without parentheses "
               "are read as layer indices, not powers.",
    ),
    Claim(
        "loss_single_example", wrt="Z3", of="J", kind="value",
        formula=lambda y, h, lam, Wt1, Wt2: -sum(y * log(h)) + lam / 2 * (sum(Wt1[:, 1:] ** 2) + sum(Wt2[:, 1:] ** 2)),
        latex=r"J(W, b) = -\sum_{k=1}^C y_k \log h_{W,b}(x) + \frac{\lambda}{2} \sum_{l=1}^L \Vert W^{(l)}\Vert^2",
        locator="Backward Pass, 'can be simplified as we have only one training example' (h_{W,b}(x) read as its k-th "
                "component, L = 2 weight layers)",
        expect="correct",
        reason="value check of the single-example loss: m = 1 and the one-hot y turn 1{y = k} into y_k.",
    ),
    Claim(
        "output_error_signal_l3", wrt="Z4", of="ce", kind="gradient",
        formula=lambda Z3, y: Z3 - y,
        latex=r"\frac{\partial J}{\partial Z^{(l+1)}_j} = Z^{(l+1)}_j - y_j \quad [\text{where } l = 3 \text{ in the example}]",
        locator="Backward Pass, 'The gradient of the error function can only be evaluated directly at the output "
                "layer': the bracket 'where l = 3 in the example', read as written (Z(l+1) = Z(4))",
        convention=DATA_TERM,
        expect="not evaluable",
        reason="with l = 3, Z(l+1) is Z(4), which the network does not have: its output pre-activation is Z(3), "
               "so l = 2 is meant (output_error_signal reads it so).",
    ),
    # ---------------------------------------------------------------- the factors of the chain rule
    Claim(
        "dA2_dZ2_relu", wrt="Z2", of="A2", kind="elementwise",
        formula=lambda Z2: relu_prime(Z2),
        latex=r"\frac{\partial A^{(l+1)}_j}{\partial Z^{(l+1)}_j} = \varphi'^{(l+1)}\left(Z^{(l+1)}_j\right)",
        locator="Backward Pass, 'For further clarification' (first factor), l = 1: phi(2) = max(0, .)",
        expect="correct", reason="ReLU is elementwise; its derivative is the step function 1[Z > 0].",
    ),
    Claim(
        "dA3_dZ3_identity", wrt="Z3", of="A3", kind="elementwise",
        formula=lambda Z3: identity_prime(Z3),
        latex=r"\frac{\partial A^{(l+1)}_j}{\partial Z^{(l+1)}_j} = \varphi'^{(l+1)}\left(Z^{(l+1)}_j\right)",
        locator="Backward Pass, 'For further clarification' (first factor), l = 2: phi(3) = id",
        expect="correct", reason="phi(3) is the identity, derivative 1 in every component.",
    ),
    Claim(
        "dZ3_dWt2_previous_output", wrt="Wt2", of="Z3", kind="jacobian",
        # as written: dZ_j / dW~_{i,j} = A_i, i.e. Z_j = sum_i W~_{i,j} A~_i; full array
        # J[j, i, k] = delta_{jk} A~_i over i in A~'s range and k in Z's range
        formula=lambda At2, C: exact_eye(C)[:, None, :] * At2[None, :, None],
        latex=r"\frac{\partial Z^{(l+1)}_j}{\partial \tilde{W}^{(l)}_{i,j}} = A^{(l)}_i",
        locator="Backward Pass, 'For further clarification' (second factor, 'linearity of matrix mult.'), l = 2",
        expect="incorrect", expect_diagnosis="transpose",
        reason="with the document's own W~_{i,j} (row i = neuron of layer l+1), dZ_i/dW~_{i,j} = A~_j: "
               "the indices of W~ are swapped (W~ axes transposed).",
    ),
    Claim(
        "dZ2_dWt1_previous_output", wrt="Wt1", of="Z2", kind="jacobian",
        formula=lambda xt, H: exact_eye(H)[:, None, :] * xt[None, :, None],
        latex=r"\frac{\partial Z^{(l+1)}_j}{\partial \tilde{W}^{(l)}_{i,j}} = A^{(l)}_i",
        locator="Backward Pass, 'For further clarification' (second factor), l = 1 (A(1) = x~)",
        expect="incorrect", expect_diagnosis="transpose",
        reason="same index swap as for layer 2: dZ_i/dW~_{i,j} = x~_j, not dZ_j/dW~_{i,j} = x~_i.",
    ),
    Claim(
        "dZ3_dWt2_previous_output_repaired", wrt="Wt2", of="Z3", kind="jacobian",
        # J[i, k, j] = d Z_i / d W~_{k,j} = delta_{ik} A~_j
        formula=lambda At2, C: exact_eye(C)[:, :, None] * At2[None, None, :],
        latex=r"\frac{\partial Z^{(l+1)}_i}{\partial \tilde{W}^{(l)}_{i,j}} = A^{(l)}_j",
        locator="repair of the second factor ('linearity of matrix mult.'), l = 2: indices matched to the W~ convention",
        expect="correct", reason="Z_i = sum_j W~_{i,j} A~_j, so dZ_i/dW~_{i,j} = A~_j (and 0 for another row of W~).",
    ),
    Claim(
        "dZ2_dWt1_previous_output_repaired", wrt="Wt1", of="Z2", kind="jacobian",
        formula=lambda xt, H: exact_eye(H)[:, :, None] * xt[None, None, :],
        latex=r"\frac{\partial Z^{(l+1)}_i}{\partial \tilde{W}^{(l)}_{i,j}} = A^{(l)}_j",
        locator="repair of the second factor, l = 1 (A(1) = x~)",
        expect="correct", reason="dZ(2)_i/dW~(1)_{i,j} = x~_j.",
    ),
    # ---------------------------------------------------------------- the chain rule itself
    Claim(
        "dJ_dWt2_chain_rule", wrt="Wt2", of="ce", kind="gradient",
        uses={"dJ_dA3": ("ce", "A3")},
        # (i, j) entry dJ/dA_j * phi'(Z_j) * A~_i: i over A~(2) (H+1), j over layer 3 (C)
        formula=lambda dJ_dA3, Z3, At2: outer(At2, dJ_dA3 * identity_prime(Z3)),
        latex=r"\frac{\partial J}{\partial \tilde{W}^{(l)}_{i,j}} = \frac{\partial J}{\partial A^{(l+1)}_j}"
              r"\frac{\partial A^{(l+1)}_j}{\partial Z^{(l+1)}_j}\frac{\partial Z^{(l+1)}_j}{\partial \tilde{W}^{(l)}_{i,j}}",
        locator="Backward Pass, 'By the chain rule, we get', l = 2, with the factors as stated below it",
        convention=DATA_TERM,
        expect="incorrect", expect_diagnosis="transpose",
        reason="W~(2)_{i,j} feeds neuron i, so the true entry is dJ/dZ_i * A~_j; the written one is its transpose "
               "((H+1) x C instead of C x (H+1)).",
    ),
    Claim(
        "dJ_dWt1_chain_rule", wrt="Wt1", of="ce", kind="gradient",
        uses={"dJ_dA2": ("ce", "A2")},
        formula=lambda dJ_dA2, Z2, xt: outer(xt, dJ_dA2 * relu_prime(Z2)),
        latex=r"\frac{\partial J}{\partial \tilde{W}^{(l)}_{i,j}} = \frac{\partial J}{\partial A^{(l+1)}_j}"
              r"\frac{\partial A^{(l+1)}_j}{\partial Z^{(l+1)}_j}\frac{\partial Z^{(l+1)}_j}{\partial \tilde{W}^{(l)}_{i,j}}",
        locator="Backward Pass, 'By the chain rule, we get', l = 1 (A(1) = x~)",
        convention=DATA_TERM,
        expect="incorrect", expect_diagnosis="transpose",
        reason="same index swap: the written array is (D+1) x H, the transpose of dJ/dW~(1).",
    ),
    Claim(
        "dJ_dWt2_chain_rule_repaired", wrt="Wt2", of="ce", kind="gradient",
        uses={"dJ_dA3": ("ce", "A3")},
        formula=lambda dJ_dA3, Z3, At2: outer(dJ_dA3 * identity_prime(Z3), At2),
        latex=r"\frac{\partial J}{\partial \tilde{W}^{(l)}_{i,j}} = \frac{\partial J}{\partial A^{(l+1)}_i}"
              r"\varphi'^{(l+1)}\left(Z^{(l+1)}_i\right) A^{(l)}_j",
        locator="repair of the chain rule (Backward Pass), l = 2, indices matched to the W~ convention",
        convention=DATA_TERM,
        expect="correct", reason="dJ/dW~_{i,j} = (dJ/dA_i phi'(Z_i)) A~_j under the document's own W~_{i,j} convention.",
    ),
    Claim(
        "dJ_dWt1_chain_rule_repaired", wrt="Wt1", of="ce", kind="gradient",
        uses={"dJ_dA2": ("ce", "A2")},
        formula=lambda dJ_dA2, Z2, xt: outer(dJ_dA2 * relu_prime(Z2), xt),
        latex=r"\frac{\partial J}{\partial \tilde{W}^{(l)}_{i,j}} = \frac{\partial J}{\partial A^{(l+1)}_i}"
              r"\varphi'^{(l+1)}\left(Z^{(l+1)}_i\right) A^{(l)}_j",
        locator="repair of the chain rule (Backward Pass), l = 1",
        convention=DATA_TERM,
        expect="correct", reason="(dJ/dA(2) * 1[Z(2) > 0]) x~^T, the outer product in the right order.",
    ),
    # ---------------------------------------------------------------- output error signal
    Claim(
        "output_error_signal", wrt="Z3", of="ce", kind="gradient",
        formula=lambda Z3, y: Z3 - y,
        latex=r"\frac{\partial J}{\partial Z^{(l+1)}_j} = Z^{(l+1)}_j - y_j \quad [\text{where } l = 3 \text{ in the example}]",
        locator="Backward Pass, 'The gradient of the error function can only be evaluated directly at the output layer'",
        convention=DATA_TERM + " (the L2 term does not depend on Z(3) anyway)",
        expect="incorrect", expect_diagnosis="no simple relation",
        reason="for softmax + cross-entropy dJ/dZ(3) = softmax(Z(3)) - y = h - y; the logits Z(3) are not probabilities.",
    ),
    Claim(
        "output_error_signal_repaired", wrt="Z3", of="ce", kind="gradient",
        formula=lambda h, y: h - y,
        latex=r"\frac{\partial J}{\partial Z^{(3)}_j} = h_{W,b}(x)_j - y_j = \mathrm{softmax}(Z^{(3)})_j - y_j",
        locator="repair of the output error signal",
        expect="correct", reason="softmax cross-entropy with a one-hot y: dJ/dZ = softmax(Z) - y.",
    ),
    Claim(
        "delta_output", wrt="Z3", of="ce", kind="gradient",
        formula=lambda Z3, A3, y: identity_prime(Z3) * (A3 - y),
        latex=r"\Delta^{(l)}_j = \varphi'\left(Z^{(l)}_j\right)\left(A_j - y_j\right) \quad \text{for the output layer}",
        locator="Backward Pass, last display ('where Delta(l)_j = ...'), first case, l = 3",
        convention=DATA_TERM,
        expect="incorrect", expect_diagnosis="no simple relation",
        reason="A(3) = Z(3) (identity output) so this is Z(3) - y again; the softmax is missing: h - y.",
    ),
    Claim(
        "delta_hidden_recursion", wrt="Z2", of="ce", kind="recursion",
        uses={"Delta3": ("ce", "Z3")},
        # sum_k Delta(l+1)_k W~(l)_{j,k}: k runs over Delta(3) (C) but is W~(2)'s column index (H+1)
        formula=lambda Z2, Delta3, Wt2: relu_prime(Z2) * (Wt2 @ Delta3),
        latex=r"\Delta^{(l)}_j = \varphi'\left(Z^{(l)}_j\right)\sum_k \Delta^{(l+1)}_k \tilde{W}^{(l)}_{j,k} \quad \text{else}",
        locator="Backward Pass, last display, second case ('else'), l = 2",
        convention=DATA_TERM,
        expect="shape error",
        reason="sum_k Delta_k W~_{j,k} = (W~(2) Delta(3))_j contracts W~'s H+1 columns with the C entries of "
               "Delta(3) (3x5 @ 3); the document's own convention needs W~_{k,j}.",
    ),
    Claim(
        "delta_hidden_recursion_repaired", wrt="Z2", of="ce", kind="recursion",
        uses={"Delta3": ("ce", "Z3")},
        formula=lambda Z2, Delta3, Wt2: relu_prime(Z2) * (Wt2[:, 1:].T @ Delta3),
        latex=r"\Delta^{(l)}_j = \varphi'\left(Z^{(l)}_j\right)\sum_k \tilde{W}^{(l)}_{k,j+1}\Delta^{(l+1)}_k",
        locator="repair of the Delta recursion: W~ index order swapped, bias column skipped",
        convention=DATA_TERM,
        expect="correct", reason="Delta(2) = 1[Z(2) > 0] * (W(2)^T Delta(3)), W(2) = W~(2) without its bias column.",
    ),
    # ---------------------------------------------------------------- the update rule
    Claim(
        "update_rule_Wt2", wrt="Wt2", kind="update", lr="eta", model=MODEL_DATA,
        uses={"Delta3": ("ce", "Z3")},
        formula=lambda eta, Delta3, At2: -eta * outer(At2, Delta3),
        latex=r"\tilde{W}^{(l)}_{i,j} \leftarrow -\eta\,\Delta^{(l+1)}_j A^{(l)}_i \quad [+\ \text{regularization}]",
        locator="Backward Pass, 'this error signal propagate backwards ... where eta is the learning rate', l = 2",
        convention=DATA_TERM + "; as written the new value is -eta Delta A, not W~ - eta Delta A",
        expect="shape error",
        reason="-eta Delta_j A_i over (i, j) is (H+1) x C while W~(2) is C x (H+1) (index swap), and the old weight is missing.",
    ),
    Claim(
        "update_rule_Wt2_repaired", wrt="Wt2", kind="update", lr="eta", model=MODEL_DATA,
        uses={"Delta3": ("ce", "Z3")},
        formula=lambda Wt2, eta, Delta3, At2: Wt2 - eta * outer(Delta3, At2),
        latex=r"\tilde{W}^{(l)}_{i,j} \leftarrow \tilde{W}^{(l)}_{i,j} - \eta\,\Delta^{(l+1)}_i A^{(l)}_j",
        locator="repair of the update rule (data term), l = 2",
        convention=DATA_TERM,
        expect="correct", reason="gradient descent on the cross-entropy: W~ - eta Delta(3) A~(2)^T.",
    ),
    Claim(
        "update_rule_Wt2_regularised_repaired", wrt="Wt2", kind="update", lr="eta",
        uses={"Delta3": ("ce", "Z3")},
        formula=lambda Wt2, eta, lam, Delta3, At2: Wt2 - eta * (outer(Delta3, At2)
                                                                 + lam * concatenate([0 * Wt2[:, :1], Wt2[:, 1:]], axis=1)),
        latex=r"\tilde{W}^{(l)} \leftarrow \tilde{W}^{(l)} - \eta\left(\Delta^{(l+1)} \tilde{A}^{(l)\top} + \lambda\,[0\ W^{(l)}]\right)",
        locator="repair of the update rule with the '[+ regularization]' term written out, l = 2",
        expect="correct", reason="d/dW~ of lambda/2 ||W||^2 is lambda W on the weight columns and 0 on the bias column.",
    ),
)

# the document's notation, for fixes and diagnoses shown in the report
SYMBOLS = {
    "x": "x", "y": "y", "one": "1", "xt": r"\tilde{x}", "Wt1": r"\tilde{W}^{(1)}", "Z2": r"Z^{(2)}", "A2": r"A^{(2)}",
    "At2": r"\tilde{A}^{(2)}", "Wt2": r"\tilde{W}^{(2)}", "Z3": r"Z^{(3)}", "A3": r"A^{(3)}", "h": r"h_{W,b}(x)",
    "ce": "J", "J": "J", "eta": r"\eta", "lam": r"\lambda", "Delta3": r"\Delta^{(3)}", "C": "C", "H": "H", "D": "D",
    "relu_prime": r"\varphi'^{(2)}\left(#1\right)", "identity_prime": r"\varphi'^{(3)}\left(#1\right)",
    "exact_eye": r"I_{#1}",
}

DERIVATION = Derivation(
    id="000",
    symbols=SYMBOLS,
    title="Backpropagation in Neural Networks: Using a Single Training Example Per Step",
    source="000_bf2223a4ebccccdc.txt",
    model=MODEL,
    claims=CLAIMS,
    description="A D-H-C network with a ReLU hidden layer and softmax on an identity output layer, biases folded "
                "into W~ = [b W], trained one example at a time on cross-entropy plus L2 weight decay.",
    notation=__doc__.split("Notation (as in the document; our names in the second column)")[1].split("Layout:")[0].strip(),
    conventions="Column vectors, Z(l+1) = W~(l) A~(l) with W~(l)_{i,j} from component j of layer l to neuron i of "
                "layer l+1; single example (no sum/mean over examples); J is minimised; the chain rule, error "
                "signals and update are judged on the cross-entropy term (the document defers the regularisation "
                "with '[+ regularization]'), the full J only in update_rule_Wt2_regularised_repaired.",
    findings=(
        "The chain rule dJ/dW~_{i,j} = dJ/dA_j dA_j/dZ_j dZ_j/dW~_{i,j} with dZ_j/dW~_{i,j} = A_i uses W~ as "
        "(input, output), contradicting the document's own statement that W~_{i,j} connects component j of layer "
        "l to neuron i of layer l+1: the gradient it defines is the transpose of dJ/dW~.",
        "The 'output error signal' dJ/dZ(3)_j = Z(3)_j - y_j ignores the softmax: the right signal is "
        "softmax(Z(3)) - y = h - y (Z(3) are logits). The output-layer Delta, phi'(Z)(A_j - y_j) with A(3) = Z(3), "
        "repeats the error.",
        "The Delta recursion sum_k Delta(l+1)_k W~(l)_{j,k} has W~'s indices swapped relative to the document's "
        "convention (should be W~(l)_{k,j}) and does not drop the bias column of W~; as an array it cannot be "
        "formed (W~(2) is C x (H+1), Delta(3) has length C).",
        "The update rule 'W~ <- -eta Delta A' sets the weight to the step instead of subtracting it, and repeats "
        "the index swap; the regularisation term is left as '[+ regularization]'.",
        "The hypothesis is written with A^3_i and Z^3_i (superscripts without parentheses) in the sums; read as "
        "A(3)_i, Z(3)_i it is the softmax (hypothesis_definition). The general cross-entropy carries 1/m and "
        "1{y(i) = k}; the single-example form drops them consistently (loss_single_example).",
        "The output error signal is stated 'where l = 3 in the example', which names Z(4); the network's output is "
        "Z(3), i.e. l = 2 (output_error_signal_l3).",
    ),
)
