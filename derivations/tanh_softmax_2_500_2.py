"""Backprop in Neural Networks (document 003): a 2-500-2 tanh network with a softmax output,
differentiated against a sigmoid log-likelihood "Loss".

Source: ``003_a2df86d76cca814a.txt`` (blog post: "This article serves as a good exercise to see how
forward propagation works and then how the gradients are computed").

Notation (as in the document; our names in the second column)

| document                    | here     | shape     | meaning                                                        |
|-----------------------------|----------|-----------|----------------------------------------------------------------|
| x in R^2                    | ``x``    | (1, 2)    | input, a ROW vector (z1 = x W1 + b1)                           |
| W1 in R^{2*500}             | ``W1``   | (2, 500)  | first-layer weights                                            |
| b1 in R^500                 | ``b1``   | (500,)    | first-layer bias (broadcast over the row)                      |
| z1 = x W1 + b1              | ``z1``   | (1, 500)  | hidden pre-activation (also written Z1 in the last equations)  |
| a1 = tanh(z1)               | ``a1``   | (1, 500)  | hidden activation                                              |
| W2 in R^{500*2}             | ``W2``   | (500, 2)  | output weights                                                 |
| b2 in R^2                   | ``b2``   | (2,)      | output bias                                                    |
| z2 = a1 W2 + b2             | ``z2``   | (1, 2)    | output pre-activation                                          |
| a2 = y^ = softmax(z2)       | ``yhat`` | (1, 2)    | prediction as defined in the forward pass                      |
| sigma(z2)                   | ``s2``   | (1, 2)    | elementwise logistic sigmoid, used in the Loss ("sigma(z2) = y^") |
| y                           | ``y``    | (1, 2)    | one-hot target                                                 |
| Loss                        | ``Loss`` | ()        | y ln sigma(z2) + (1 - y) ln(1 - sigma(z2)), summed over the 2 outputs |
| (P)^T                       | ``.T``   |           | transpose                                                      |

Which loss the gradients are judged against. The document defines y^ = softmax(z2) in the forward
pass, then differentiates "Loss = y ln(sigma(z2)) + (1 - y) ln(1 - sigma(z2))" and states
"sigma(z2) = y^". Its Loss has no minus sign: it is a log-likelihood, a quantity to MAXIMISE
(although the text says the loss is to be minimised). ``MODEL`` is that Loss as written
(``sense="maximise"``); there y^ in the final gradients is read as sigma(z2), as the document says,
so the sigma/softmax conflation is charged once, to ``dLoss_dz2_yhat``. ``MODEL_SOFTMAX_CE`` is the
softmax cross-entropy -sum y ln y^ (minimised) that the forward pass suggests, to show what the
y - y^ formulas mean with y^ = softmax(z2): they are its negative gradient (sign flip).
``SCALAR`` is a one-number model for the scalar identities (dsigma/dz, dtanh/dz).

Single example, no sum or mean over examples. Width 500 is kept; SymPy uses h = 3.

Layout (declared on the claims, the document's own convention): the document writes the Jacobians of
its 1 x n rows as plain matrices (dz2/dW2 as 2 x 500 x 2, dz2/db2 as the 2 x 2 identity), declared
``layout="squeezed"``, and the bias gradients as 1 x n rows (``layout="row"``) although b1 and b2
are vectors.
"""

from __future__ import annotations

from gradcheck import Claim, Data, Derivation, Model
from gradcheck.ops import eye, log, sigmoid, softmax, sum, tanh

DIMS = {"d": 2, "h": 500, "c": 2}


def exact_eye(n):
    """The n x n identity as an integer array (so SymPy values stay exact)."""
    return (eye(n) > 0.5) * 1


STEPS = [
    ("z1", lambda x, W1, b1: x @ W1 + b1),
    ("a1", lambda z1: tanh(z1)),
    ("z2", lambda a1, W2, b2: a1 @ W2 + b2),
    ("yhat", lambda z2: softmax(z2, axis=1)),
    ("s2", lambda z2: sigmoid(z2)),
    ("Loss", lambda y, s2: sum(y * log(s2) + (1 - y) * log(1 - s2))),
    ("ce", lambda y, yhat: -sum(y * log(yhat))),
    ("bce", lambda Loss: -Loss),  # the Loss with the minus sign a quantity to minimise needs
]
_COMMON = dict(
    dims=DIMS, symbolic_dims={"h": 3}, steps=STEPS,
    data={"x": Data((1, "d")), "y": Data((1, "c"), kind="one_hot")},
    params={"W1": ("d", "h"), "b1": ("h",), "W2": ("h", "c"), "b2": ("c",)},
)
MODEL = Model(name="2-500-2 tanh network, the document's Loss = y ln sigma(z2) + (1-y) ln(1-sigma(z2)) (maximised)",
              objective="Loss", sense="maximise", **_COMMON)
MODEL_SOFTMAX_CE = Model(name="same network, softmax cross-entropy -sum y ln softmax(z2) (minimised)",
                         objective="ce", **_COMMON)
SCALAR = Model(
    name="one pre-activation z: sigma(z) and tanh(z)",
    dims={}, params={"z": ()},
    steps=[("s", lambda z: sigmoid(z)), ("t", lambda z: tanh(z))], objective="s",
)

SIGN = ("the document's Loss is a log-likelihood (no minus sign), to be maximised; judged against it as written, "
        "with y^ read as sigma(z2) ('Since, sigma(z2) = y^')")
CE = "judged against the softmax cross-entropy -sum y ln y^ with y^ = softmax(z2) from the forward pass (minimised)"

LOSS_LATEX = r"Loss = y \ast \ln(\sigma(z_2)) + (1 - y) \ast \ln(1 - \sigma(z_2))"

CLAIMS = (
    # ------------------------------------------------------------ definitions and statements (no derivative)
    Claim(
        "Loss_definition", wrt="z2", of="ce", kind="value", model=MODEL_SOFTMAX_CE,
        formula=lambda y, s2: sum(y * log(s2) + (1 - y) * log(1 - s2)), latex=LOSS_LATEX,
        locator="'Below are the steps to compute the various gradients': the Loss, against the network of the "
                "forward pass (a2 = y^ = softmax(z2)) and a loss 'which we actually have to minimize'",
        expect="incorrect",
        reason="value check: the written Loss is compared with the softmax cross-entropy -sum y ln softmax(z2) of the "
               "stated network at the same points; it uses the elementwise sigma instead of the softmax and has no "
               "minus sign, so it is neither.",
    ),
    Claim(
        "Loss_definition_repaired", wrt="z2", of="ce", kind="value", model=MODEL_SOFTMAX_CE,
        formula=lambda y, yhat: -sum(y * log(yhat)),
        latex=r"Loss = -\sum_k y_k \ln \hat{y}_k = -\sum_k y_k \ln\left(\mathrm{softmax}(z_2)_k\right)",
        locator="repair of the Loss: the cross-entropy of the network's softmax output, to minimise",
        expect="correct", reason="the loss the forward pass and 'which we actually have to minimize' call for.",
    ),
    Claim(
        "Loss_sign_to_minimise", wrt="z2", of="bce", kind="value",
        formula=lambda y, s2: sum(y * log(s2) + (1 - y) * log(1 - s2)), latex=LOSS_LATEX,
        locator="the Loss, against the text's 'the loss function (which we actually have to minimize)'",
        expect="incorrect", expect_diagnosis="sign flip",
        reason="value check against the sigmoid cross-entropy -[y ln sigma + (1-y) ln(1-sigma)], the quantity to "
               "minimise: the written Loss is its negative (a log-likelihood, to maximise).",
    ),
    Claim(
        "sigma_z2_is_yhat", wrt="z2", of="yhat", kind="value",
        formula=lambda s2: s2,
        latex=r"\sigma(z_2) = \hat{y}",
        locator="'Since, sigma(z2) = y^' (prose, after dLoss/dz2), with y^ = softmax(z2) from the forward pass",
        expect="incorrect",
        reason="value check of the stated identity: the elementwise sigmoid of z2 is compared with softmax(z2); "
               "they differ (the sigmoids do not even sum to 1).",
    ),
    # ------------------------------------------------------------ scalar identities
    Claim(
        "dsigma_dz", wrt="z", of="s", kind="elementwise", model=SCALAR,
        formula=lambda s: log(s) * log(1 - s),
        latex=r"\frac{d\sigma(z_2)}{dz} = \ln(\sigma(z_2)) \ast \ln(1 - \sigma(z_2))",
        locator="'Also, note that:' (after the Loss)",
        expect="incorrect", expect_diagnosis="no simple relation",
        reason="sigma'(z) = sigma(z)(1 - sigma(z)); ln(sigma) ln(1 - sigma) is another function (at z = 0: 0.48 vs 0.25).",
    ),
    Claim(
        "dsigma_dz_repaired", wrt="z", of="s", kind="elementwise", model=SCALAR,
        formula=lambda s: s * (1 - s),
        latex=r"\frac{d\sigma(z)}{dz} = \sigma(z)\,(1 - \sigma(z))",
        locator="repair of 'Also, note that'",
        expect="correct", reason="the logistic derivative.",
    ),
    Claim(
        "dtanh_dz", wrt="z", of="t", kind="elementwise", model=SCALAR,
        formula=lambda t: 1 - t ** 2,
        latex=r"\frac{\partial \tanh(z_1)}{\partial z_1} = 1 - \tanh^2(z_1)",
        locator="list of partial derivatives, fifth line",
        expect="correct", reason="tanh' = 1 - tanh^2 (elementwise on z1).",
    ),
    # ------------------------------------------------------------ output signal
    Claim(
        "dLoss_dz2", wrt="z2", kind="gradient",
        formula=lambda y, s2: y - s2,
        latex=r"\frac{\partial Loss}{\partial z_2} = y - \sigma(z_2)",
        locator="'Therefore, dLoss/dz2 = y - sigma(z2)' (first equality)",
        convention=SIGN,
        expect="correct", reason="d/dz [y ln s + (1-y) ln(1-s)] = y - s per output; right for the Loss as written (a maximand).",
    ),
    Claim(
        "dLoss_dz2_yhat", wrt="z2", kind="gradient",
        formula=lambda y, yhat: y - yhat,
        latex=r"\frac{\partial Loss}{\partial z_2} = y - \sigma(z_2) = y - \hat{y} \qquad \text{Since, } \sigma(z_2) = \hat{y}",
        locator="'Therefore, ... = y - y^', second equality, with y^ = softmax(z2) from the forward pass",
        convention="the document's Loss (sigmoid log-likelihood); y^ = softmax(z2) as defined in the forward pass",
        expect="incorrect", expect_diagnosis="no simple relation",
        reason="sigma(z2) != softmax(z2) (elementwise logistic vs normalised exponentials), so y - softmax(z2) is not dLoss/dz2.",
    ),
    Claim(
        "dLoss_dz2_yhat_network_repaired", wrt="z2", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda y, yhat: yhat - y,
        latex=r"\frac{\partial L}{\partial z_2} = \hat{y} - y, \quad L = -\sum_k y_k \ln \hat{y}_k",
        locator="repair of 'Therefore, ... = y - y^' for the network of the forward pass (softmax output, "
                "cross-entropy to minimise)",
        convention=CE, expect="correct", reason="softmax cross-entropy: dL/dz2 = softmax(z2) - y.",
    ),
    Claim(
        "dLoss_dz2_softmax_ce", wrt="z2", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda y, yhat: y - yhat,
        latex=r"\frac{\partial Loss}{\partial z_2} = y - \hat{y}",
        locator="'Therefore, ... = y - y^', read against the softmax cross-entropy",
        convention=CE,
        expect="incorrect", expect_diagnosis="sign flip",
        reason="d(-sum y ln softmax(z2))/dz2 = y^ - y: y - y^ is the gradient of the log-likelihood, not of the loss.",
    ),
    # ------------------------------------------------------------ one-step partials (shorthand Jacobians)
    Claim(
        "dz2_dW2", layout="squeezed", wrt="W2", of="z2", kind="jacobian",
        formula=lambda a1, c: exact_eye(c)[:, None, :] * a1[0][None, :, None],
        latex=r"\frac{\partial z_2}{\partial W_2} = \frac{\partial (a_1W_2 + b_2)}{\partial W_2} = a_1",
        locator="list of partial derivatives, first line",
        expect="correct",
        reason="shorthand for the Jacobian J[k, i, j] = delta_kj a1_i (a1 is the coefficient of W2 in z2), built as that array.",
    ),
    Claim(
        "dz2_db2", layout="squeezed", wrt="b2", of="z2", kind="jacobian",
        formula=lambda c: exact_eye(c),
        latex=r"\frac{\partial z_2}{\partial b_2} = 1",
        locator="list of partial derivatives, second line",
        expect="correct", reason="'1' is the identity Jacobian I_2.",
    ),
    Claim(
        "dz2_dtanh_z1", layout="squeezed", wrt="a1", of="z2", kind="jacobian",
        formula=lambda z2: z2,
        latex=r"\frac{\partial z_2}{\partial \tanh(z_1)} = \frac{\partial (a_1W_2 + b_2)}{\partial \tanh(z_1)} "
              r"= \frac{\partial (\tanh(z_1)W_2 + b_2)}{\partial \tanh(z_1)} = z_2",
        locator="list of partial derivatives, third line",
        expect="shape error",
        reason="z2 is 1 x 2 but dz2/da1 is 2 x 500 (= W2^T); the value z2 is also wrong (the coefficient of tanh(z1) is W2).",
    ),
    Claim(
        "dz2_dtanh_z1_repaired", layout="squeezed", wrt="a1", of="z2", kind="jacobian",
        formula=lambda W2: W2.T,
        latex=r"\frac{\partial z_2}{\partial \tanh(z_1)} = W_2^T",
        locator="repair of the third line of partial derivatives",
        expect="correct", reason="z2_k = sum_i a1_i W2[i, k] + b2_k: J[k, i] = W2[i, k].",
    ),
    Claim(
        "dz1_dW1", layout="squeezed", wrt="W1", of="z1", kind="jacobian",
        formula=lambda x, h: exact_eye(h)[:, None, :] * x[0][None, :, None],
        latex=r"\frac{\partial z_1}{\partial W_1} = \frac{\partial (xW_1 + b_1)}{\partial W_1} = x",
        locator="list of partial derivatives, sixth line",
        expect="correct", reason="shorthand for J[k, i, j] = delta_kj x_i (x is the coefficient of W1 in z1), built as that array.",
    ),
    Claim(
        "dz1_db1", layout="squeezed", wrt="b1", of="z1", kind="jacobian",
        formula=lambda h: exact_eye(h),
        latex=r"\frac{\partial z_1}{\partial b_1} = \frac{\partial (xW_1 + b_1)}{\partial b_1} = 1",
        locator="list of partial derivatives, seventh line",
        expect="correct", reason="'1' is the identity Jacobian I_500.",
    ),
    # ------------------------------------------------------------ parameter gradients
    Claim(
        "dLoss_dW2", wrt="W2", kind="gradient",
        formula=lambda a1, y, s2: a1.T @ (y - s2),
        latex=r"\frac{\partial Loss}{\partial W_2} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial W_2} = a_1^T(y - \hat{y})",
        locator="'Finally, we can now use the chain rule', first equation",
        convention=SIGN,
        expect="correct", reason="a1^T (dLoss/dz2), 500 x 2, with dLoss/dz2 = y - sigma(z2).",
    ),
    Claim(
        "dLoss_dW2_softmax_ce", wrt="W2", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda a1, y, yhat: a1.T @ (y - yhat),
        latex=r"\frac{\partial Loss}{\partial W_2} = a_1^T(y - \hat{y})",
        locator="chain-rule equations, first, read against the softmax cross-entropy",
        convention=CE,
        expect="incorrect", expect_diagnosis="sign flip",
        reason="the cross-entropy gradient is a1^T (y^ - y).",
    ),
    Claim(
        "dLoss_db2", layout="row", wrt="b2", kind="gradient",
        formula=lambda y, s2: y - s2,
        latex=r"\frac{\partial Loss}{\partial b_2} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial b_2} = (y - \hat{y})",
        locator="chain-rule equations, second",
        convention=SIGN,
        expect="correct", reason="dz2/db2 is the identity: the bias gradient is dLoss/dz2 (a 1 x 2 row for b2 in R^2).",
    ),
    Claim(
        "dLoss_db2_softmax_ce", layout="row", wrt="b2", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda y, yhat: y - yhat,
        latex=r"\frac{\partial Loss}{\partial b_2} = (y - \hat{y})",
        locator="chain-rule equations, second, read against the softmax cross-entropy",
        convention=CE,
        expect="incorrect", expect_diagnosis="sign flip",
        reason="the cross-entropy gradient is y^ - y.",
    ),
    Claim(
        "dLoss_dW1", wrt="W1", kind="gradient",
        formula=lambda x, a1, y, s2, W2: x.T @ (1 - a1 ** 2) @ (y - s2) @ W2.T,
        latex=r"\frac{\partial Loss}{\partial W_1} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial z_1} \ast "
              r"\frac{\partial z_1}{\partial W_1} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial \tanh(z_1)} \ast "
              r"\frac{\partial \tanh(z_1)}{\partial z_1} \ast \frac{\partial z_1}{\partial W_1} = x^T(1 - \tanh^2 Z_1)(y - \hat{y})W_2^T",
        locator="chain-rule equations, third",
        convention=SIGN,
        expect="shape error",
        reason="x^T (1-tanh^2 Z1) is 2 x 500 and cannot multiply (y - y^), 1 x 2: the factors are in an order whose shapes do not fit.",
    ),
    Claim(
        "dLoss_dW1_repaired", wrt="W1", kind="gradient",
        formula=lambda x, a1, y, s2, W2: x.T @ (((y - s2) @ W2.T) * (1 - a1 ** 2)),
        latex=r"\frac{\partial Loss}{\partial W_1} = x^T\left[\left((y - \hat{y})W_2^T\right) \odot (1 - \tanh^2 z_1)\right]",
        locator="repair of the third chain-rule equation",
        convention=SIGN,
        expect="correct", reason="backpropagate (y - sigma(z2)) through W2^T, multiply elementwise by tanh', then x^T (outer product).",
    ),
    Claim(
        "dLoss_dW1_network_repaired", wrt="W1", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda x, a1, y, yhat, W2: x.T @ (((yhat - y) @ W2.T) * (1 - a1 ** 2)),
        latex=r"\frac{\partial L}{\partial W_1} = x^T\left[\left((\hat{y} - y)W_2^T\right) \odot (1 - \tanh^2 z_1)\right], "
              r"\quad \hat{y} = \mathrm{softmax}(z_2)",
        locator="repair of the third chain-rule equation for the network of the forward pass (softmax cross-entropy, "
                "minimised)",
        convention=CE, expect="correct", reason="the cross-entropy's dL/dz2 = y^ - y, backpropagated through W2^T and tanh'.",
    ),
    Claim(
        "dLoss_db1", layout="row", wrt="b1", kind="gradient",
        formula=lambda a1, y, s2, W2: (1 - a1 ** 2) @ (y - s2) @ W2.T,
        latex=r"\frac{\partial Loss}{\partial b_1} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial z_1} \ast "
              r"\frac{\partial z_1}{\partial W_1} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial \tanh(z_1)} \ast "
              r"\frac{\partial \tanh(z_1)}{\partial z_1} \ast \frac{\partial z_1}{\partial b_1} = (1 - \tanh^2 Z_1)(y - \hat{y})W_2^T",
        locator="chain-rule equations, fourth (its first chain says dz1/dW1 where dz1/db1 is meant)",
        convention=SIGN,
        expect="shape error",
        reason="(1 - tanh^2 Z1) is 1 x 500 and (y - y^) is 1 x 2: the product cannot be formed in this order.",
    ),
    Claim(
        "dLoss_db1_network_repaired", layout="row", wrt="b1", kind="gradient", model=MODEL_SOFTMAX_CE,
        formula=lambda a1, y, yhat, W2: ((yhat - y) @ W2.T) * (1 - a1 ** 2),
        latex=r"\frac{\partial L}{\partial b_1} = \left((\hat{y} - y)W_2^T\right) \odot (1 - \tanh^2 z_1), "
              r"\quad \hat{y} = \mathrm{softmax}(z_2)",
        locator="repair of the fourth chain-rule equation for the network of the forward pass (softmax cross-entropy, "
                "minimised)",
        convention=CE, expect="correct", reason="the hidden error signal of the cross-entropy.",
    ),
    Claim(
        "dLoss_db1_chain_as_written", layout="row", wrt="b1", kind="gradient",
        formula=lambda x, a1, y, s2, W2: x.T @ (((y - s2) @ W2.T) * (1 - a1 ** 2)),
        latex=r"\frac{\partial Loss}{\partial b_1} = \frac{\partial Loss}{\partial z_2} \ast \frac{\partial z_2}{\partial z_1} \ast "
              r"\frac{\partial z_1}{\partial W_1}",
        locator="chain-rule equations, fourth, first chain: its last factor is dz1/dW1 (= x), where dz1/db1 (= 1) is meant",
        convention=SIGN,
        expect="shape error",
        reason="evaluated as written, with dz1/dW1 = x as the document states it: the chain is then dLoss/dW1 "
               "(2 x 500), not the gradient of b1 (500): the chain-rule factor names the wrong variable.",
    ),
    Claim(
        "dLoss_db1_repaired", layout="row", wrt="b1", kind="gradient",
        formula=lambda a1, y, s2, W2: ((y - s2) @ W2.T) * (1 - a1 ** 2),
        latex=r"\frac{\partial Loss}{\partial b_1} = \left((y - \hat{y})W_2^T\right) \odot (1 - \tanh^2 z_1)",
        locator="repair of the fourth chain-rule equation",
        convention=SIGN,
        expect="correct", reason="the hidden error signal itself (1 x 500 row for b1 in R^500).",
    ),
)

SYMBOLS = {
    "x": "x", "W1": "W_1", "b1": "b_1", "z1": "z_1", "a1": r"\tanh(z_1)", "W2": "W_2", "b2": "b_2", "z2": "z_2",
    "yhat": r"\hat{y}", "s2": r"\sigma(z_2)", "y": "y", "Loss": "Loss", "ce": "L", "bce": r"-Loss",
    "s": r"\sigma(z)", "t": r"\tanh(z)", "z": "z", "exact_eye": r"I_{#1}", "c": "2", "h": "500", "d": "2",
}

FIX_NOTES = {
    "dLoss_dz2_yhat": "the repair found, $y - \\sigma(z_2)$, only follows the Loss as written (sigmoid, no minus "
                      "sign); for the document's network ($\\hat{y} = \\mathrm{softmax}(z_2)$, a loss to minimise) the right formula is "
                      "$\\hat{y} - y$ (claim `dLoss_dz2_yhat_network_repaired`).",
    "sigma_z2_is_yhat": "the statement is false and should be dropped: $\\sigma(z_2)$ is the elementwise sigmoid, "
                        "$\\hat{y} = \\mathrm{softmax}(z_2)$.",
    "dLoss_dW1": "`dLoss_dW1_repaired` fixes the order of the factors for the Loss as written ($\\hat{y}$ read as "
                 "$\\sigma(z_2)$); for the network of the forward pass, a softmax cross-entropy to minimise, "
                 "`dLoss_dW1_network_repaired` is right.",
    "dLoss_db1": "`dLoss_db1_repaired` fixes the order of the factors for the Loss as written ($\\hat{y}$ read as "
                 "$\\sigma(z_2)$); for the network of the forward pass, a softmax cross-entropy to minimise, "
                 "`dLoss_db1_network_repaired` is right.",
    "dLoss_dz2_softmax_ce": "the sign flip makes it right for the softmax cross-entropy, the loss of the network "
                            "as the forward pass defines it.",
}

DERIVATION = Derivation(
    id="003",
    symbols=SYMBOLS,
    fix_notes=FIX_NOTES,
    title="Backprop in Neural Networks (2-500-2 tanh network with softmax output)",
    source="003_a2df86d76cca814a.txt",
    model=MODEL,
    claims=CLAIMS,
    description="Forward and backward pass of x W1 + b1 -> tanh -> W2 + b2 -> softmax for x in R^2 with 500 hidden "
                "units; the backward pass differentiates a sigmoid log-likelihood and writes row-vector gradients.",
    notation=__doc__.split("Notation (as in the document; our names in the second column)")[1].split("Which loss")[0].strip(),
    conventions="Row vectors (x is 1 x 2, z1 = x W1 + b1), single example. MODEL: the Loss as written, "
                "y ln sigma(z2) + (1-y) ln(1-sigma(z2)) summed over the two outputs, a log-likelihood to maximise; "
                "y^ in its gradients read as sigma(z2) (the document's 'sigma(z2) = y^'). MODEL_SOFTMAX_CE: "
                "-sum y ln softmax(z2), minimised, for y^ = softmax(z2). Jacobians in numerator layout; the "
                "one-step shorthands '= a1', '= x', '= 1' are encoded as the Kronecker/identity Jacobians they stand for.",
    findings=(
        "The forward pass defines y^ = a2 = softmax(z2), but the Loss is written with the elementwise sigmoid and "
        "the text asserts sigma(z2) = y^: softmax and sigmoid differ, so y - y^ (softmax) is not dLoss/dz2 "
        "(Loss_definition, sigma_z2_is_yhat, dLoss_dz2_yhat).",
        "The Loss y ln sigma + (1-y) ln(1-sigma) has no minus sign: it is a log-likelihood, to be maximised, while "
        "the text says the loss is to be minimised; every gradient written with (y - y^) is the ascent direction of "
        "the likelihood, i.e. the negative of the cross-entropy gradient (Loss_sign_to_minimise).",
        "dsigma/dz = ln(sigma) ln(1 - sigma) is wrong: sigma' = sigma(1 - sigma).",
        "dz2/dtanh(z1) = z2 is wrong (the coefficient is W2; W2^T in numerator layout) and has the wrong shape (1 x 2 "
        "instead of 2 x 500).",
        "Stated shapes are inconsistent in the W1 and b1 gradients: x^T (2x1) (1 - tanh^2 Z1) (1x500) (y - y^) (1x2) "
        "W2^T (2x500) cannot be multiplied in this order; the right expression is x^T[((y - y^) W2^T) * (1 - tanh^2 z1)] "
        "with an elementwise product. The b1 gradient's chain writes dz1/dW1 where dz1/db1 is meant "
        "(dLoss_db1_chain_as_written); Z1 (capital) appears for z1.",
        "x in R^2 is used as a 1 x 2 row (z1 = x W1 with W1 in R^{2x500}); the gradients of b1 and b2 come out as "
        "1 x 500 and 1 x 2 rows for b1 in R^500, b2 in R^2 (consistent up to the singleton axis).",
    ),
)
