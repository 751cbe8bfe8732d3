"""An example of backpropagation in a four layer neural network using cross entropy loss.

Source: ``001_be212e6186c688dd.txt`` (a WordPress post; LaTeX extracted as text). The post works
the backward pass of a 2-2-4-3 network (input, two sigmoid hidden layers, softmax output) for one
sample, entry by entry, then for a batch of 3 samples (output layer and hidden layer 2 only).

Notation (the document's own):

| symbol | meaning | shape (single sample) | shape (batch) |
|---|---|---|---|
| x | input, a row vector | 1x2 | 3x2 (samples are rows) |
| W^1, b^1 | input-layer weights and bias, z^1 = x W^1 + b^1 | written 2x3, 1x3; **used here 2x2, 1x2** | same |
| h^1 = sigma(z^1) | hidden layer 1 | 1x2 | 3x2 |
| W^2, b^2 | z^2 = h^1 W^2 + b^2 | 2x4, 1x4 | same |
| h^2 = sigma(z^2) | hidden layer 2 | 1x4 | 3x4 |
| W^3, b^3 | z^3 = h^2 W^3 + b^3 | 4x3, 1x3 | same |
| yhat = softmax(z^3) | predicted probabilities | 1x3 | 3x3 (softmax per row) |
| y | one-hot label | 1x3 | 3x3 |
| H | cross entropy -sum_i y_i log yhat_i (a loss: minimised) | scalar | scalar, summed over samples |
| delta^1, delta^2, delta^3 | dH/dz^3, dH/dz^2, dH/dz^1 (numbered from the output backwards) | 1x3, 1x4, 1x2 | 3x3, 3x4, 3x2 |
| sigma'(z) | sigma(z)(1 - sigma(z)), entrywise, a row like z | | |

Layout: gradients of H have the shape of the variable (row vectors stay rows); Jacobians are
numerator layout, rows indexed by the output (the document's dz^3/dh^2 is 3x4 = (W^3)^T). The post
treats its 1 x n rows as vectors, so its Jacobians are declared ``layout="squeezed"`` (dz^3/dh^2 is
3x4, not 1x3x1x4), and a derivative with respect to one scalar entry is written as a column
(``layout="column"``: dz^3/dw^3_{1,1} is 3x1).
Loss: a sum, never a mean (single sample: over classes; batch: also over samples).
"""

from __future__ import annotations

import numpy as np

from gradcheck import Claim, Data, Derivation, Model
from gradcheck.ops import diag, exp, eye, log, reshape, sigmoid, softmax, stack, sum

TITLE = "An example of backpropagation in a four layer neural network using cross entropy loss"

# δ^{L-l} is dH/dz^l: the true values, so each claim is judged on its own.
D1 = {"delta1": ("H", "z3")}
D2 = {"delta2": ("H", "z2")}
D3 = {"delta3": ("H", "z1")}


def _row(*entries):
    """A 1xn row vector written entry by entry, as the document writes [a & b & c]."""
    return reshape(stack(list(entries)), (1, len(entries)))


def _matrix(*rows):
    """A matrix written row by row (each row a list of entries)."""
    return stack([stack(list(r)) for r in rows])


def _w(W, i, j):
    """The entry w_{i,j} (1-based, as the document indexes). Raises IndexError when the matrix has
    no such entry (JAX would silently clamp an out-of-range index)."""
    rows, cols = W.shape
    if not (1 <= i <= rows and 1 <= j <= cols):
        raise IndexError(f"w_{{{i},{j}}} does not exist in a {rows}x{cols} matrix")
    return W[i - 1, j - 1]


def _dsigma(z):
    """sigma'(z) = sigma(z)(1 - sigma(z)), entrywise."""
    return sigmoid(z) * (1 - sigmoid(z))


# --------------------------------------------------------------------------- models
DIMS = {"n0": 2, "n1": 2, "n2": 4, "n3": 3}
# The post works one 2-2-4-3 network entry by entry (3 classes, W^3 as 12 named entries, a 3x3
# softmax Jacobian written out): its formulas hold at these sizes only, so there is no second size.
FIXED_SIZE = ("the document works one 2-2-4-3 network entry by entry (3 classes, W^3 as 12 named entries), "
              "so its formulas are checked at that size only")
PARAMS = {"W1": ("n0", "n1"), "b1": (1, "n1"), "W2": ("n1", "n2"), "b2": (1, "n2"),
          "W3": ("n2", "n3"), "b3": (1, "n3")}
FORWARD = [
    ("z1", lambda x, W1, b1: x @ W1 + b1),       # z^1 = x W^1 + b^1
    ("h1", lambda z1: sigmoid(z1)),               # h^1 = [sigma(z^1_1) sigma(z^1_2)]
    ("z2", lambda h1, W2, b2: h1 @ W2 + b2),      # z^2 = h^1 W^2 + b^2
    ("h2", lambda z2: sigmoid(z2)),               # h^2 = [sigma(z^2_1) ... sigma(z^2_4)]
    ("z3", lambda h2, W3, b3: h2 @ W3 + b3),      # z^3 = h^2 W^3 + b^3
    ("yhat", lambda z3: softmax(z3, axis=1)),     # yhat_k = exp(z^3_k) / sum_i exp(z^3_i)
    ("H", lambda y, yhat: -sum(y * log(yhat))),   # H(yhat, y) = -sum_i y_i log(yhat_i)
]


def single_sample_model(name="four-layer sigmoid/softmax network, one sample", y=None, dims=None,
                        params=None):
    """The document's network for one sample; ``y`` fixes the label (the one-hot special cases)."""
    label = Data((1, "n3"), kind="one_hot") if y is None else Data((1, "n3"), kind="one_hot",
                                                                  value=np.array([y], dtype=float))
    return Model(name, dims=dims or DIMS, steps=FORWARD,
                 data={"x": Data((1, "n0")), "y": label}, params=params or PARAMS, objective="H",
                 fixed_size=FIXED_SIZE)


MODEL = single_sample_model()
MODEL_Y1 = single_sample_model("one sample, y = [1 0 0]", y=[1, 0, 0])
MODEL_Y2 = single_sample_model("one sample, y = [0 1 0]", y=[0, 1, 0])
# W^1 and b^1 exactly as written (2x3, 1x3), with W^2 as written (2x4): h^1 comes out 1x3,
# and z^2 = h^1 W^2 cannot be formed.
MODEL_AS_WRITTEN = single_sample_model(
    "W^1 2x3 and b^1 1x3 as written", dims={**DIMS, "n1_written": 3},
    params={**PARAMS, "W1": ("n0", "n1_written"), "b1": (1, "n1_written")})


def _W3(w3_11, w3_12, w3_13, w3_21, w3_22, w3_23, w3_31, w3_32, w3_33, w3_41, w3_42, w3_43):
    """W^3 written entry by entry, as in the section "Hidden Layer 2"."""
    return _matrix([w3_11, w3_12, w3_13], [w3_21, w3_22, w3_23], [w3_31, w3_32, w3_33],
                   [w3_41, w3_42, w3_43])


W3_ENTRIES = {f"w3_{i}{j}": () for i in range(1, 5) for j in range(1, 4)}

# The same network with z^2, h^2 and W^3 written entry by entry (as the document writes them),
# so that entry-level claims (dz^3_1/dh^2_1, dz^3/dw^3_{1,1}, dh^2/dz^2_1) are derivatives with
# respect to a named scalar.
ENTRY_MODEL = Model(
    "one sample, hidden layer 2 written entry by entry",
    dims=DIMS,
    data={"x": Data((1, "n0")), "y": Data((1, "n3"), kind="one_hot")},
    params={"W1": ("n0", "n1"), "b1": (1, "n1"), "W2": ("n1", "n2"), "b2": (1, "n2"),
            **W3_ENTRIES, "b3": (1, "n3")},
    steps=[
        ("z1", lambda x, W1, b1: x @ W1 + b1),
        ("h1", lambda z1: sigmoid(z1)),
        ("z2_1", lambda h1, W2, b2: (h1 @ W2 + b2)[0, 0]),
        ("z2_2", lambda h1, W2, b2: (h1 @ W2 + b2)[0, 1]),
        ("z2_3", lambda h1, W2, b2: (h1 @ W2 + b2)[0, 2]),
        ("z2_4", lambda h1, W2, b2: (h1 @ W2 + b2)[0, 3]),
        ("h2_1", lambda z2_1: sigmoid(z2_1)),
        ("h2_2", lambda z2_2: sigmoid(z2_2)),
        ("h2_3", lambda z2_3: sigmoid(z2_3)),
        ("h2_4", lambda z2_4: sigmoid(z2_4)),
        ("h2", lambda h2_1, h2_2, h2_3, h2_4: _row(h2_1, h2_2, h2_3, h2_4)),
        ("W3", _W3),
        ("z3", lambda h2, W3, b3: h2 @ W3 + b3),
        ("z3_1", lambda z3: z3[0, 0]),
        ("z3_2", lambda z3: z3[0, 1]),
        ("yhat", lambda z3: softmax(z3, axis=1)),
        ("H", lambda y, yhat: -sum(y * log(yhat))),
    ],
    objective="H",
    fixed_size=FIXED_SIZE,
)

# Three samples as the rows of x (section "Extension to using more than 1 sample"). The output
# layer is written entry by entry (w^3_{i,j}, b^3_j) because the section differentiates with
# respect to w^3_{1,1} and b^3_1. The loss is summed over samples (see CONVENTIONS).
BATCH_MODEL = Model(
    "four-layer network, batch of 3 samples (rows)",
    dims={**DIMS, "m": 3},
    data={"x": Data(("m", "n0")), "y": Data(("m", "n3"), kind="one_hot")},
    params={"W1": ("n0", "n1"), "b1": (1, "n1"), "W2": ("n1", "n2"), "b2": (1, "n2"),
            **W3_ENTRIES, "b3_1": (), "b3_2": (), "b3_3": ()},
    steps=[
        ("z1", lambda x, W1, b1: x @ W1 + b1),
        ("h1", lambda z1: sigmoid(z1)),
        ("z2", lambda h1, W2, b2: h1 @ W2 + b2),
        ("h2", lambda z2: sigmoid(z2)),
        ("W3", _W3),
        ("b3", lambda b3_1, b3_2, b3_3: _row(b3_1, b3_2, b3_3)),
        ("z3", lambda h2, W3, b3: h2 @ W3 + b3),   # b^3 broadcast over the rows
        ("yhat", lambda z3: softmax(z3, axis=1)),
        ("H", lambda y, yhat: -sum(y * log(yhat))),  # summed over classes and samples
    ],
    objective="H",
    fixed_size=FIXED_SIZE,
)


# --------------------------------------------------------------------------- claims
LOC_OUT = "The output layer and loss function"
LOC_H2 = "Hidden Layer 2"
LOC_H1 = "Hidden layer 1"
LOC_IN = "Input layer"
LOC_RULES = "Summary of gradients: 'for all layers l' (observations 1-4)"
LOC_BATCH = "Extension to using more than 1 sample in the backward pass"


def dH(x):
    """The document's \\frac{\\partial H(\\hat{y}, y)}{\\partial x} (LaTeX)."""
    return r"\frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial " + x + "}"


def dHb(x):
    """The document's other spelling, \\frac{\\partial \\mathbf{H(y, \\hat{y})}}{\\partial x}."""
    return r"\frac{\partial \mathbf{H(y, \hat{y})}}{\partial " + x + "}"


def _softmax_jacobian(yhat):
    """The document's explicit 3x3 softmax Jacobian, entry by entry."""
    y1, y2, y3 = yhat[0, 0], yhat[0, 1], yhat[0, 2]
    return _matrix([y1 * (1 - y1), -y1 * y2, -y1 * y3],
                   [-y2 * y1, y2 * (1 - y2), -y2 * y3],
                   [-y3 * y1, -y3 * y2, y3 * (1 - y3)])


SOFTMAX_JACOBIAN_TEX = (r"\begin{bmatrix} \hat{y}_1(1-\hat{y}_1) & -\hat{y}_1\hat{y}_2 & -\hat{y}_1\hat{y}_3\\ "
                        r"-\hat{y}_2\hat{y}_1 & \hat{y}_2(1-\hat{y}_2) & -\hat{y}_2\hat{y}_3\\ "
                        r"-\hat{y}_3\hat{y}_1 & -\hat{y}_3\hat{y}_2 & \hat{y}_3(1-\hat{y}_3) \end{bmatrix}")


def dH_dz3_expanded(y, yhat):
    """Entry k: (sum_{i != k} y_i yhat_k) - y_k (1 - yhat_k)."""
    def entry(k):
        others = sum(stack([y[0, i] for i in range(3) if i != k]))
        return others * yhat[0, k] - y[0, k] * (1 - yhat[0, k])

    return _row(entry(0), entry(1), entry(2))


def dz3_dh2_explicit(W2):
    """[w^2_{1,1} w^2_{2,1} w^2_{3,1} w^2_{4,1}; ...]: W^2 is 2x4, so w^2_{3,1} does not exist."""
    return _matrix([_w(W2, 1, 1), _w(W2, 2, 1), _w(W2, 3, 1), _w(W2, 4, 1)],
                   [_w(W2, 1, 2), _w(W2, 2, 2), _w(W2, 3, 2), _w(W2, 4, 2)],
                   [_w(W2, 1, 3), _w(W2, 2, 3), _w(W2, 3, 3), _w(W2, 4, 3)])


def dz3_dw3_ij(h2):
    """dz^3/dw^3_{i,j} = [1_(j=1) h^2_i; 1_(j=2) h^2_i; 1_(j=3) h^2_i]: J[k, i, j] = 1(j=k) h^2_i."""
    return stack([_matrix(*[[(1.0 if j == k else 0.0) * h2[0, i] for j in range(3)] for i in range(4)])
                  for k in range(3)])


def dH_dw3_ij(delta1, h2):
    """dH/dw^3_{i,j} = delta^1_j h^2_i for every (i, j)."""
    return _matrix(*[[delta1[0, j] * h2[0, i] for j in range(3)] for i in range(4)])


def dh2_dz2_as_written(z2):
    """The document's diagonal matrix; its (1,1) entry is sigma(z^2_1)(1 - sigma(z^2_2))."""
    s = sigmoid(z2)[0]
    o = 0 * s[0]
    return _matrix([s[0] * (1 - s[1]), o, o, o],
                   [o, s[1] * (1 - s[1]), o, o],
                   [o, o, s[2] * (1 - s[2]), o],
                   [o, o, o, s[3] * (1 - s[3])])


def _W3T_batch(w3_11, w3_12, w3_13, w3_21, w3_22, w3_23, w3_31, w3_32, w3_33, w3_41, w3_42, w3_43):
    # (W^3)^T as written in the batch section; its w_{4,2}, w_{4,3} carry no superscript (read: W^3)
    return _matrix([w3_11, w3_21, w3_31, w3_41],
                   [w3_12, w3_22, w3_32, w3_42],
                   [w3_13, w3_23, w3_33, w3_43])


def dH_dh2_batch(delta1, w3_11, w3_12, w3_13, w3_21, w3_22, w3_23, w3_31, w3_32, w3_33, w3_41, w3_42,
                 w3_43):
    return delta1 @ _W3T_batch(w3_11, w3_12, w3_13, w3_21, w3_22, w3_23, w3_31, w3_32, w3_33, w3_41,
                               w3_42, w3_43)


def dH_dW3_batch_explicit(h2, delta1):
    """(h^2)^T as written: the row [h^2_{1,1} h^2_{2,1} h^2_{3,1}] four times, times delta^1."""
    first_unit = [h2[0, 0], h2[1, 0], h2[2, 0]]
    return _matrix(first_unit, first_unit, first_unit, first_unit) @ delta1


OUTPUT_LAYER = (
    Claim("yhat_definition", of="yhat", wrt="z3", kind="value",
          formula=lambda z3: exp(z3) / sum(exp(z3)),
          latex=r"\hat{y}_k = \mathbf{\sigma}(\mathbf{z}^{3})_k = \frac{exp(z^{3}_k)}{\sum_{i=1}^{3}exp(z_i^3)}",
          locator=LOC_OUT + ": 'The k-th element of the output for the softmax function is' (sigma names the softmax "
                            "here and the logistic function from Hidden layer 1 on)",
          expect="correct", reason="value check of the definition: the softmax of the single row z^3."),
    Claim("H_definition", of="H", wrt="z3", kind="value",
          formula=lambda y, yhat: -sum(y * log(yhat)),
          latex=r"H(\mathbf{\hat{y}},\mathbf{y}) := - \sum_{i=1}^3 y_{i} \log (\hat{y}_i)",
          locator=LOC_OUT + ": 'the cross entropy loss'",
          expect="correct", reason="value check of the definition of the loss the model minimises."),
    Claim("dH_dyhat", wrt="yhat", formula=lambda y, yhat: -y / yhat,
          latex=r"\begin{bmatrix} \frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial\hat{y}_1} & \frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial\hat{y}_2} & \frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial\hat{y}_3} \end{bmatrix} = \begin{bmatrix} -\frac{y_1}{\hat{y}_1} & -\frac{y_2}{\hat{y}_2} & -\frac{y_3}{\hat{y}_3} \end{bmatrix} =" + dH(r"\mathbf{\hat{y}}"),
          locator=LOC_OUT + ": 'is the partial derivative of our loss function H with its inputs'",
          expect="correct", reason="d/d yhat_i of -sum_k y_k log yhat_k is -y_i / yhat_i"),
    Claim("softmax_jacobian", layout="squeezed", of="yhat", wrt="z3", kind="jacobian", formula=_softmax_jacobian,
          latex=r"\begin{bmatrix} \frac{\partial\hat{y}_1}{\partial z^3_1} & \cdots \end{bmatrix} = "
                + SOFTMAX_JACOBIAN_TEX + r"= \frac{\partial \mathbf{\hat{y}}}{\partial \mathbf{z}^3}",
          locator=LOC_OUT + ": 'is the Jacobian of the softmax function'",
          expect="correct",
          reason="d yhat_i / d z_j = yhat_i (1[i=j] - yhat_j); the matrix is symmetric, so either layout"),
    Claim("dH_dz3_chain", wrt="z3", formula=lambda y, yhat: (-y / yhat) @ _softmax_jacobian(yhat),
          latex=dH(r"\mathbf{z}^3") + " = " + dH(r"\mathbf{\hat{y}}")
                + r"\frac{\partial \mathbf{\hat{y}}}{\partial \mathbf{z}^3} =\begin{bmatrix} -\frac{y_1}{\hat{y}_1} & -\frac{y_2}{\hat{y}_2} & -\frac{y_3}{\hat{y}_3} \end{bmatrix} "
                + SOFTMAX_JACOBIAN_TEX,
          locator=LOC_OUT + ": 'So we are nearly there! We know that'",
          expect="correct", reason="row gradient times the numerator-layout Jacobian is the chain rule"),
    Claim("dH_dz3_expanded", wrt="z3", formula=dH_dz3_expanded,
          latex=r"\begin{bmatrix} (\sum_{i \neq 1}^3 y_i \hat{y}_1)-y_1(1- \hat{y_1}) & (\sum_{i \neq 2}^3y_i \hat{y}_2)-y_2(1- \hat{y_2}) & (\sum_{i \neq 3}^3y_i \hat{y}_3)-y_3(1- \hat{y_3}) \end{bmatrix}",
          locator=LOC_OUT + ": 'So after the matrix multiplications we get'",
          expect="correct",
          reason="entry k of [-y/yhat] times the Jacobian: -y_k(1-yhat_k) + sum_{i!=k} y_i yhat_k, for any y"),
    Claim("dH_dz3_class1", wrt="z3", model=MODEL_Y1,
          formula=lambda yhat: _row(yhat[0, 0] - 1, yhat[0, 1], yhat[0, 2]),
          latex=dH(r"\mathbf{z}^3") + r" = \begin{bmatrix}-(1- \hat{y_1}) & \hat{y_2} & \hat{y_3} \end{bmatrix} =\begin{bmatrix} \hat{y_1} - 1 & \hat{y_2} & \hat{y_3} \end{bmatrix}",
          locator=LOC_OUT + ": 'Assuming that the class being represented by the first element of y is true'",
          convention="holds only for y = [1 0 0]; judged on a model with that label fixed",
          expect="correct", reason="yhat - y with y = e_1"),
    Claim("dH_dz3_class2", wrt="z3", model=MODEL_Y2,
          formula=lambda yhat: _row(yhat[0, 0], yhat[0, 1] - 1, yhat[0, 2]),
          latex=dH(r"\mathbf{z}^3") + r" = \begin{bmatrix} \hat{y_1} & \hat{y_2} - 1 & \hat{y_3} \end{bmatrix}",
          locator=LOC_OUT + ": 'if the class being represented by the second element of y is true'",
          convention="holds only for y = [0 1 0]; judged on a model with that label fixed",
          expect="correct", reason="yhat - y with y = e_2"),
    Claim("delta1", wrt="z3", formula=lambda y, yhat: yhat - y,
          latex=dH(r"\mathbf{z}^3") + r" = \mathbf{\hat{y}} - \mathbf{y} =\delta^1 = \begin{bmatrix} \delta^1_{1} & \delta^1_{2} & \delta^1_{3} \end{bmatrix}",
          locator=LOC_OUT + ": 'can simply be represented by' (repeated in the Summary)",
          expect="correct", reason="softmax + cross entropy with a one-hot (sum-to-one) y gives yhat - y"),
)

# ∂z³_k/∂h²_i as written: "= w^2_{i,k}" (superscript 2 where W³ is meant), and the middle
# expression, which for the first two entries differentiates with respect to the wrong h.
_ENTRY = dict(model=ENTRY_MODEL, kind="jacobian")
_Z31 = r"(h^2_1w^3_{1,1}+h^2_2w^3_{2,1}+h^2_3w^3_{3,1}+h^2_4w^3_{4,1}+b^3_1)"
_Z32 = r"(h^2_1w^3_{1,2}+h^2_2w^3_{2,2}+h^2_3w^3_{3,2}+h^2_4w^3_{4,2}+b^3_2)"
LOC_DZ3DH2 = LOC_H2 + ": 'we first start by finding dz^3_1/dh^2_1' / 'Let's find a few more'"
WRONG_SUPERSCRIPT = "w^2_{i,k} is an entry of W^2 (the weights into h^2), not W^3: a different number"
NO_SUCH_ENTRY = "W^2 is 2x4 (rows 1-2), so w^2_{3,1} / w^2_{4,1} does not exist"

HIDDEN_LAYER_2_ENTRIES = (
    Claim("dz3_1_dh2_1", of="z3_1", wrt="h2_1", formula=lambda W2: _w(W2, 1, 1), **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_1} =\frac{\partial}{\partial{h}^2_3}" + _Z31 + r"=w_{1,1}^2",
          locator=LOC_DZ3DH2, expect="incorrect", reason=WRONG_SUPERSCRIPT),
    Claim("dz3_1_dh2_1_middle", of="z3_1", wrt="h2_1", formula=lambda w3_31: w3_31, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_1} =\frac{\partial}{\partial{h}^2_3}" + _Z31,
          locator=LOC_DZ3DH2, expect="incorrect",
          reason="the middle expression differentiates z^3_1 w.r.t. h^2_3 (gives w^3_{3,1}), not h^2_1"),
    Claim("dz3_1_dh2_1_repaired", of="z3_1", wrt="h2_1", formula=lambda w3_11: w3_11, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_1} =\frac{\partial}{\partial{h}^2_1}" + _Z31 + r"=w_{1,1}^3",
          locator=LOC_DZ3DH2, expect="correct", reason="z^3_1 = sum_i h^2_i w^3_{i,1} + b^3_1"),
    Claim("dz3_1_dh2_2", of="z3_1", wrt="h2_2", formula=lambda W2: _w(W2, 2, 1), **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_2} =\frac{\partial}{\partial{h}^2_1}" + _Z31 + r"=w_{2,1}^2",
          locator=LOC_DZ3DH2, expect="incorrect", reason=WRONG_SUPERSCRIPT),
    Claim("dz3_1_dh2_2_middle", of="z3_1", wrt="h2_2", formula=lambda w3_11: w3_11, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_2} =\frac{\partial}{\partial{h}^2_1}" + _Z31,
          locator=LOC_DZ3DH2, expect="incorrect",
          reason="the middle expression differentiates z^3_1 w.r.t. h^2_1 (gives w^3_{1,1}), not h^2_2"),
    Claim("dz3_1_dh2_2_repaired", of="z3_1", wrt="h2_2", formula=lambda w3_21: w3_21, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_2} =\frac{\partial}{\partial{h}^2_2}" + _Z31 + r"=w_{2,1}^3",
          locator=LOC_DZ3DH2, expect="correct", reason="z^3_1 = sum_i h^2_i w^3_{i,1} + b^3_1"),
    Claim("dz3_1_dh2_3", of="z3_1", wrt="h2_3", formula=lambda W2: _w(W2, 3, 1), **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_3} =\frac{\partial}{\partial{h}^2_3}" + _Z31 + r"=w_{3,1}^2",
          locator=LOC_DZ3DH2, expect="shape error", reason=NO_SUCH_ENTRY),
    Claim("dz3_1_dh2_3_repaired", of="z3_1", wrt="h2_3", formula=lambda w3_31: w3_31, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_3} =\frac{\partial}{\partial{h}^2_3}" + _Z31 + r"=w_{3,1}^3",
          locator=LOC_DZ3DH2, expect="correct", reason="z^3_1 = sum_i h^2_i w^3_{i,1} + b^3_1"),
    Claim("dz3_1_dh2_4", of="z3_1", wrt="h2_4", formula=lambda W2: _w(W2, 4, 1), **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_4} =\frac{\partial}{\partial{h}^2_4}" + _Z31 + r"=w_{4,1}^2",
          locator=LOC_DZ3DH2, expect="shape error", reason=NO_SUCH_ENTRY),
    Claim("dz3_1_dh2_4_repaired", of="z3_1", wrt="h2_4", formula=lambda w3_41: w3_41, **_ENTRY,
          latex=r"\frac{\partial z^3_1}{\partial{h}^2_4} =\frac{\partial}{\partial{h}^2_4}" + _Z31 + r"=w_{4,1}^3",
          locator=LOC_DZ3DH2, expect="correct", reason="z^3_1 = sum_i h^2_i w^3_{i,1} + b^3_1"),
    Claim("dz3_2_dh2_1", of="z3_2", wrt="h2_1", formula=lambda W2: _w(W2, 1, 2), **_ENTRY,
          latex=r"\frac{\partial z^3_2}{\partial{h}^2_1} =\frac{\partial}{\partial{h}^2_1}" + _Z32 + r"=w_{1,2}^2",
          locator=LOC_DZ3DH2, expect="incorrect", reason=WRONG_SUPERSCRIPT),
    Claim("dz3_2_dh2_1_repaired", of="z3_2", wrt="h2_1", formula=lambda w3_12: w3_12, **_ENTRY,
          latex=r"\frac{\partial z^3_2}{\partial{h}^2_1} =\frac{\partial}{\partial{h}^2_1}" + _Z32 + r"=w_{1,2}^3",
          locator=LOC_DZ3DH2, expect="correct", reason="z^3_2 = sum_i h^2_i w^3_{i,2} + b^3_2"),
)

_ROW_LEFT = r"\begin{bmatrix} \delta^1_{1} & \delta^1_{2} & \delta^1_{3} \end{bmatrix}"
HIDDEN_LAYER_2 = (
    Claim("dz3_dh2_explicit", of="z3", wrt="h2", kind="jacobian", formula=dz3_dh2_explicit,
          latex=r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{h}^2} = \begin{bmatrix} w_{1,1}^2 & w_{2,1}^2 & w_{3,1}^2 & w_{4,1}^2 \\ w_{1,2}^2 &w_{2,2}^2 &w_{3,2}^2 &w_{4,2}^2 \\ w_{1,3}^2 &w_{2,3}^2 &w_{3,3}^2 &w_{4,3}^2 \end{bmatrix}",
          locator=LOC_H2 + ": 'it shouldn't be hard to convince yourself now that'",
          expect="shape error",
          reason="entries of W^2 (2x4) indexed up to w^2_{4,3}: rows 3-4 of W^2 do not exist (W^3 is meant)"),
    Claim("dz3_dh2", layout="squeezed", of="z3", wrt="h2", kind="jacobian", formula=lambda W3: W3.T,
          latex=r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{h}^2} = (W^3)^T",
          locator=LOC_H2 + ": 'it shouldn't be hard to convince yourself now that' (right-hand side)",
          expect="correct", reason="z^3 = h^2 W^3 + b^3, so dz^3_k/dh^2_i = w^3_{i,k}: the 3x4 (W^3)^T"),
    Claim("dH_dh2", wrt="h2", formula=lambda delta1, W3: delta1 @ W3.T, uses=D1,
          latex=dH(r"\mathbf{h}^2") + "= " + dH(r"\mathbf{z}^3")
                + r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{h}^2} = \delta^1 (W^3)^T",
          locator=LOC_H2 + ": 'Now finally putting it all together' (repeated in the Summary)",
          expect="correct", reason="row delta^1 (1x3) times the 3x4 Jacobian (W^3)^T"),
    Claim("dz3_dw3_ij", layout="squeezed", of="z3", wrt="W3", kind="jacobian", formula=dz3_dw3_ij,
          latex=r"\frac{\partial \mathbf{z}^3}{\partial w^3_{i,j}} = \begin{bmatrix}\mathbf{1}_{(j=1)}h ^2_i\\\mathbf{1}_{(j=2)}h^2_i\\\mathbf{1}_{(j=3)}h^2_i\end{bmatrix}",
          locator=LOC_H2 + ": 'So we can see that for any w^3_{i,j}'",
          expect="correct", reason="z^3_k = sum_i h^2_i w^3_{i,k} + b^3_k depends on w^3_{i,j} only when k = j"),
    Claim("dz3_dw3_11", layout="column", of="z3", wrt="w3_11", model=ENTRY_MODEL, kind="jacobian",
          formula=lambda h2_1: _matrix([h2_1], [0 * h2_1], [0 * h2_1]),
          latex=r"\frac{\partial \mathbf{z}^3}{\partial w^3_{1,1}} = \begin{bmatrix}h^2_1 \\0\\0 \end{bmatrix}",
          locator=LOC_H2 + ": 'Finding dz^3/dW^3'", expect="correct", reason="only z^3_1 contains h^2_1 w^3_{1,1}"),
    Claim("dz3_dw3_32", layout="column", of="z3", wrt="w3_32", model=ENTRY_MODEL, kind="jacobian",
          formula=lambda h2_3: _matrix([0 * h2_3], [h2_3], [0 * h2_3]),
          latex=r"\frac{\partial \mathbf{z}^3}{\partial w^3_{3,2}} = \begin{bmatrix}0 \\h^2_3\\0 \end{bmatrix}",
          locator=LOC_H2 + ": 'Lets take 2 more elements of the the weight matrix'",
          expect="correct", reason="only z^3_2 contains h^2_3 w^3_{3,2}"),
    Claim("dz3_dw3_23", layout="column", of="z3", wrt="w3_23", model=ENTRY_MODEL, kind="jacobian",
          formula=lambda h2_2: _matrix([0 * h2_2], [0 * h2_2], [h2_2]),
          latex=r"\frac{\partial \mathbf{z}^3}{\partial w^3_{2,3}} = \begin{bmatrix}0 \\0\\h^2_2 \end{bmatrix}",
          locator=LOC_H2 + ": 'Lets take 2 more elements of the the weight matrix'",
          expect="correct", reason="only z^3_3 contains h^2_2 w^3_{2,3}"),
    Claim("dH_dw3_11", wrt="w3_11", model=ENTRY_MODEL, uses=D1,
          formula=lambda delta1, h2_1: (delta1 @ _matrix([h2_1], [0 * h2_1], [0 * h2_1]))[0, 0],
          latex=dHb("w^3_{1,1}") + " = " + _ROW_LEFT + r"\begin{bmatrix} h^2_1 \\ 0 \\ 0 \end{bmatrix} = \delta^1_{1}h^2_1",
          locator=LOC_H2 + ": 'Now lets try to find dH/dw^3_{1,1}'",
          expect="correct", reason="delta^1 times dz^3/dw^3_{1,1}"),
    Claim("dH_dw3_32", wrt="w3_32", model=ENTRY_MODEL, uses=D1,
          formula=lambda delta1, h2_3: (delta1 @ _matrix([0 * h2_3], [h2_3], [0 * h2_3]))[0, 0],
          latex=dHb("w^3_{3,2}") + " = " + _ROW_LEFT + r"\begin{bmatrix} 0 \\ h^2_3 \\ 0 \end{bmatrix} = \delta^1_{2}h^2_3",
          locator=LOC_H2 + ": 'Lets try a few more elements of W^3'",
          expect="correct", reason="delta^1 times dz^3/dw^3_{3,2}"),
    Claim("dH_dw3_23", wrt="w3_23", model=ENTRY_MODEL, uses=D1,
          formula=lambda delta1, h2_2: (delta1 @ _matrix([0 * h2_2], [0 * h2_2], [h2_2]))[0, 0],
          latex=dHb("w^3_{2,3}") + " = " + _ROW_LEFT + r"\begin{bmatrix} 0  \\ 0 \\h^2_2 \end{bmatrix} = \delta^1_{3}h^2_2",
          locator=LOC_H2 + ": 'Lets try a few more elements of W^3'",
          expect="correct", reason="delta^1 times dz^3/dw^3_{2,3}"),
    Claim("dH_dw3_ij", wrt="W3", formula=dH_dw3_ij, uses=D1,
          latex=dHb("w^3_{i,j}") + r" = \delta^1_{j}h^2_i",
          locator=LOC_H2 + ": 'Now if we stare at these examples a bit we can see that'",
          expect="correct", reason="sum_k delta^1_k 1(k=j) h^2_i"),
    Claim("dH_dW3_explicit", wrt="W3", uses=D1,
          formula=lambda delta1, h2: _matrix(
              [delta1[0, 0] * h2[0, 0], delta1[0, 1] * h2[0, 0], delta1[0, 2] * h2[0, 0]],
              [delta1[0, 0] * h2[0, 1], delta1[0, 1] * h2[0, 1], delta1[0, 2] * h2[0, 1]],
              [delta1[0, 0] * h2[0, 2], delta1[0, 1] * h2[0, 2], delta1[0, 2] * h2[0, 2]],
              [delta1[0, 0] * h2[0, 3], delta1[0, 1] * h2[0, 3], delta1[0, 2] * h2[0, 3]]),
          latex=dHb("W^3") + r" = \begin{bmatrix}\delta^1_{1}h^2_1 & \delta^1_{2}h^2_1 & \delta^1_{3}h^2_1 \\ \delta^1_{1}h^2_2 & \delta^1_{2}h^2_2 & \delta^1_{3}h^2_2 \\ \delta^1_{1}h^2_3 & \delta^1_{2}h^2_3 & \delta^1_{3}h^2_3\\ \delta^1_{1}h^2_4 & \delta^1_{2}h^2_4 & \delta^1_{3}h^2_4\end{bmatrix}",
          locator=LOC_H2 + ": 'Now we can write out dH/dW^3'",
          expect="correct", reason="entry (i, j) is delta^1_j h^2_i"),
    Claim("dH_dW3", wrt="W3", formula=lambda h2, delta1: h2.T @ delta1, uses=D1,
          latex=dHb("W^3") + r" = \begin{bmatrix}h^2_1\\h^2_2 \\h^2_3\\ h^2_4\end{bmatrix}\begin{bmatrix}\delta^1_{1}&\delta^1_{2}& \delta^1_{3}\end{bmatrix}=(\mathbf{h}^2)^T \delta^1",
          locator=LOC_H2 + ": 'this is simply (well maybe not that simple)' (repeated in the Summary)",
          expect="correct", reason="outer product of the 4x1 column (h^2)^T and the 1x3 row delta^1"),
    Claim("dz3_db3", layout="squeezed", of="z3", wrt="b3", kind="jacobian", formula=lambda n3: eye(n3),
          latex=r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{b}^3} = \mathbf{I}",
          locator=LOC_H2 + ": 'Then we concatenate the vectors together'",
          expect="correct", reason="z^3_k = ... + b^3_k"),
    Claim("dH_db3", wrt="b3", formula=lambda delta1, n3: delta1 @ eye(n3), uses=D1,
          latex=dH(r"\mathbf{b}^3") + "= " + dH(r"\mathbf{z}^3")
                + r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{b}^3} = \delta^1 \mathbf{I}  = \delta^1",
          locator=LOC_H2 + ": 'Finding dz^3/db^3' (repeated in the Summary)",
          expect="correct", reason="delta^1 times the identity"),
    Claim("dH_db2_as_written", wrt="b2", formula=lambda delta1, n3: delta1 @ eye(n3), uses=D1,
          latex=r"\text{multiply } \frac{\partial \mathbf{z}^3}{\partial \mathbf{b}^3} \text{ by } " + dH(r"\mathbf{z}^3")
                + r" = \delta^1 \text{ to get the gradients of } \mathbf{h}^2, W^3, \mathbf{b}^2",
          locator=LOC_H2 + ": 'After we find these gradients we can simply multiply them by ... delta^1'",
          expect="shape error",
          reason="b^2 where b^3 is meant: delta^1 dz^3/db^3 is 1x3, b^2 is 1x4"),
)

HIDDEN_LAYER_1 = (
    Claim("dH_dz2_chain", wrt="z2", uses=D1,
          formula=lambda delta1, W3, z2: delta1 @ W3.T @ diag(_dsigma(z2)[0]),
          latex=dH(r"\mathbf{z}^2") + "= " + dH(r"\mathbf{z}^3")
                + r"\frac{\partial \mathbf{z}^3}{\partial \mathbf{h}^2}\frac{\partial \mathbf{h}^2}{\partial \mathbf{z}^2}= \delta^1 (W^3)^T\frac{\partial \mathbf{h}^2}{\partial \mathbf{z}^2}",
          locator=LOC_H1 + ": 'after we have found it we can simply do'",
          expect="correct", reason="chain rule with the (true, diagonal) Jacobian dh^2/dz^2"),
    Claim("dh2_dz2_1", layout="column", of="h2", wrt="z2_1", model=ENTRY_MODEL, kind="jacobian",
          formula=lambda z2_1: _matrix([_dsigma(z2_1)], [0 * z2_1], [0 * z2_1], [0 * z2_1]),
          latex=r"\frac{\partial \mathbf{h}^2}{\partial z^2_1}= \begin {bmatrix} \frac{\partial}{\partial z^2_1}\sigma(z^2_1) \\ \frac{\partial}{\partial z^2_2}\sigma(z^2_1) \\ \frac{\partial}{\partial z^2_3}\sigma(z^2_1) \\ \frac{\partial}{\partial z^2_4}\sigma(z^2_1) \end{bmatrix} = \begin {bmatrix} \sigma(z^2_1) (1 - \sigma(z^2_1)) \\ 0 \\0 \\0 \end{bmatrix}",
          locator=LOC_H1 + ": 'find dh^2/dz^2_1 first and work from there'",
          expect="correct",
          reason="only h^2_1 depends on z^2_1 (the middle column lists dh^2_1/dz^2_k, equal here by diagonality)"),
    Claim("dh2_dz2", layout="squeezed", of="h2", wrt="z2", kind="jacobian", formula=dh2_dz2_as_written,
          latex=r"\frac{\partial \mathbf{h}^2}{\partial \mathbf{z}^2} = \begin {bmatrix} \sigma(z^2_1)(1 - \sigma(z^2_2)) & 0 & 0 & 0  \\ 0 &  \sigma(z^2_2)(1 - \sigma(z^2_2)) & 0 & 0\\0 & 0 & \sigma(z^2_3)(1 - \sigma(z^2_3)) & 0 \\0 & 0 & 0 & \sigma(z^2_4)(1 - \sigma(z^2_4)) \end{bmatrix}",
          locator=LOC_H1 + ": 'If we did the same thing for z^2_2, z^2_3, z^2_4 and concatenated'",
          expect="incorrect", reason="typo: the (1,1) entry is sigma(z^2_1)(1 - sigma(z^2_2)), not sigma'(z^2_1)"),
    Claim("dh2_dz2_repaired", layout="squeezed", of="h2", wrt="z2", kind="jacobian", formula=lambda z2: diag(_dsigma(z2)[0]),
          latex=r"\frac{\partial \mathbf{h}^2}{\partial \mathbf{z}^2} = \begin {bmatrix} \sigma(z^2_1)(1 - \sigma(z^2_1)) & 0 & 0 & 0  \\ \vdots & \ddots \end{bmatrix} = \operatorname{diag}(\sigma'(\mathbf{z}^2))",
          locator=LOC_H1 + ": 'If we did the same thing for z^2_2, z^2_3, z^2_4 and concatenated'",
          expect="correct", reason="h^2_k = sigma(z^2_k): a diagonal Jacobian of sigma'"),
    Claim("delta2", wrt="z2", kind="recursion", uses=D1,
          formula=lambda delta1, W3, z2: (delta1 @ W3.T) * _dsigma(z2),
          latex=dH(r"\mathbf{z}^2") + r"=  \delta^1 (W^3)^T\frac{\partial \mathbf{h}^2}{\partial \mathbf{z}^2} = \delta^1 (W^3)^T \circ \sigma'(\mathbf{z}^2) = \delta^2",
          locator=LOC_H1 + " (repeated in the Summary)",
          expect="correct", reason="a row times a diagonal matrix is the Hadamard product with its diagonal"),
    Claim("sigma_prime_z2", of="h2", wrt="z2", kind="elementwise", formula=lambda z2: _dsigma(z2),
          latex=r"\sigma'(\mathbf{z}^2) = \begin{bmatrix} \sigma(z^2_1)(1 - \sigma(z^2_1)) & \sigma(z^2_2)(1 - \sigma(z^2_2))& \sigma(z^2_3)(1 - \sigma(z^2_3))& \sigma(z^2_4)(1 - \sigma(z^2_4)) \end{bmatrix}",
          locator=LOC_H1 + ": 'where sigma'(.) = sigma(.)(1 - sigma(.))'",
          expect="correct", reason="the logistic function's derivative"),
    Claim("dH_dh1", wrt="h1", formula=lambda delta2, W2: delta2 @ W2.T, uses=D2,
          latex=dH(r"\mathbf{h}^1") + r" = \delta^2 (W^2)^T",
          locator=LOC_H1 + ": 'If we go through the same steps as we did above' (repeated in the Summary)",
          expect="correct", reason="same pattern as dH/dh^2 one layer down"),
    Claim("dH_dW2", wrt="W2", formula=lambda h1, delta2: h1.T @ delta2, uses=D2,
          latex=dHb("W^2") + r" =(\mathbf{h}^1)^T \delta^2",
          locator=LOC_H1 + ": 'If we go through the same steps as we did above' (repeated in the Summary)",
          expect="correct", reason="outer product (h^1)^T delta^2, 2x4"),
    Claim("dH_db2", wrt="b2", formula=lambda delta2: delta2, uses=D2,
          latex=dH(r"\mathbf{b}^2") + r"=\delta^2",
          locator=LOC_H1 + ": 'If we go through the same steps as we did above' (repeated in the Summary)",
          expect="correct", reason="dz^2/db^2 = I"),
)

INPUT_LAYER = (
    Claim("delta3", wrt="z1", kind="recursion", uses=D2,
          formula=lambda delta2, W2, z1: (delta2 @ W2.T) * _dsigma(z1),
          latex=dH(r"\mathbf{z}^1") + r"=\delta^2 (W^2)^T \circ \sigma'(\mathbf{z}^1) = \delta^3",
          locator=LOC_IN + ": 'Then you should end up with something like this' (repeated in the Summary)",
          expect="correct", reason="same recursion as delta^2 (with h^1 1x2, W^1 2x2)"),
    Claim("sigma_prime_z1", of="h1", wrt="z1", kind="elementwise", formula=lambda z1: _dsigma(z1),
          latex=r"\sigma'(\mathbf{z}^1) = \begin{bmatrix} \sigma(z^1_1)(1 - \sigma(z^1_1)) & \sigma(z^1_2)(1 - \sigma(z^1_2)) \end{bmatrix}",
          locator=LOC_IN, expect="correct", reason="the logistic function's derivative, two entries"),
    Claim("dH_dx", wrt="x", formula=lambda delta3, W1: delta3 @ W1.T, uses=D3,
          latex=dH(r"\mathbf{x}") + r" = \delta^3 (W^1)^T",
          locator=LOC_IN + ": 'This is what you should be getting' (repeated in the Summary)",
          expect="correct", reason="same pattern as dH/dh^2 (with W^1 2x2)"),
    Claim("dH_dW1", wrt="W1", formula=lambda x, delta3: x.T @ delta3, uses=D3,
          latex=dHb("W^1") + r" =(\mathbf{x})^T \delta^3",
          locator=LOC_IN + ": 'This is what you should be getting' (repeated in the Summary)",
          expect="correct", reason="outer product x^T delta^3"),
    Claim("dH_db1", wrt="b1", formula=lambda delta3: delta3, uses=D3,
          latex=dH(r"\mathbf{b}^1") + r"=\delta^3",
          locator=LOC_IN + ": 'This is what you should be getting' (repeated in the Summary)",
          expect="correct", reason="dz^1/db^1 = I"),
    Claim("dH_dW1_as_written", wrt="W1", formula=lambda x, delta3: x.T @ delta3, uses=D3,
          model=MODEL_AS_WRITTEN,
          latex=dHb("W^1") + r" =(\mathbf{x})^T \delta^3, \quad W^1 = \begin{bmatrix} w_{1,1}^1 & w_{1,2}^1 & w_{1,3}^1 \\ w_{2,1}^1 & w_{2,2} & w_{2,3}^1 \end{bmatrix}",
          locator=LOC_IN + ": 'For this last part we will again need to define some variables'",
          expect="not evaluable",
          reason="with W^1 2x3 and b^1 1x3 as written, h^1 is 1x3 and z^2 = h^1 W^2 (W^2 2x4) cannot be formed"),
)

# Observations 1-3 of the Summary for l = 1..3 with L = 4 (layer 1 is the input x, layer 4 the
# output; input^1 = x, input^2 = h^1, input^3 = h^2). Layer 4 has no W^4 or b^4.
# delta^{L-l} = dH/dz^l: delta^3 = dH/dz^1, delta^2 = dH/dz^2, delta^1 = dH/dz^3.
RULE1 = r"\frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial \mathbf{input}^l}=\delta^{L-l} (W^{l})^T"
RULE2 = r"\frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial W^l}= (\mathbf{input}^l)^T \delta^{L-l}"
RULE3 = r"\frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial \mathbf{b}^l}= \delta^{L-l}"
RULE4 = r"\frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial \mathbf{z}^l} = \delta^{L-l}"


def _rule(n, l):
    return f"{LOC_RULES}: observation {n}, l = {l}, L = 4"


RULES = (
    Claim("rule1_l1", wrt="x", formula=lambda delta3, W1: delta3 @ W1.T, uses=D3, latex=RULE1,
          locator=_rule(1, 1), expect="correct", reason="l=1: input^1 = x, delta^3 = dH/dz^1"),
    Claim("rule1_l2", wrt="h1", formula=lambda delta2, W2: delta2 @ W2.T, uses=D2, latex=RULE1,
          locator=_rule(1, 2), expect="correct", reason="l=2: input^2 = h^1, delta^2 = dH/dz^2"),
    Claim("rule1_l3", wrt="h2", formula=lambda delta1, W3: delta1 @ W3.T, uses=D1, latex=RULE1,
          locator=_rule(1, 3), expect="correct", reason="l=3: input^3 = h^2, delta^1 = dH/dz^3"),
    Claim("rule2_l1", wrt="W1", formula=lambda x, delta3: x.T @ delta3, uses=D3, latex=RULE2,
          locator=_rule(2, 1), expect="correct", reason="l=1: x^T delta^3"),
    Claim("rule2_l2", wrt="W2", formula=lambda h1, delta2: h1.T @ delta2, uses=D2, latex=RULE2,
          locator=_rule(2, 2), expect="correct", reason="l=2: (h^1)^T delta^2"),
    Claim("rule2_l3", wrt="W3", formula=lambda h2, delta1: h2.T @ delta1, uses=D1, latex=RULE2,
          locator=_rule(2, 3), expect="correct", reason="l=3: (h^2)^T delta^1"),
    Claim("rule3_l1", wrt="b1", formula=lambda delta3: delta3, uses=D3, latex=RULE3,
          locator=_rule(3, 1), expect="correct", reason="l=1: delta^3"),
    Claim("rule3_l2", wrt="b2", formula=lambda delta2: delta2, uses=D2, latex=RULE3,
          locator=_rule(3, 2), expect="correct", reason="l=2: delta^2"),
    Claim("rule3_l3", wrt="b3", formula=lambda delta1: delta1, uses=D1, latex=RULE3,
          locator=_rule(3, 3), expect="correct", reason="l=3: delta^1"),
    # Observation 4: the delta^{L-l} of the document's own recursions is dH/dz^l.
    Claim("rule4_l1", wrt="z1", kind="recursion", uses=D2,
          formula=lambda delta2, W2, z1: (delta2 @ W2.T) * _dsigma(z1),
          latex=RULE4 + r", \text{ e.g. } \frac{\partial H(\mathbf{\hat{y}},\mathbf{y})}{\partial \mathbf{z}^1} = \delta^3",
          locator=_rule(4, 1), expect="correct", reason="delta^{4-1} = delta^3 = delta^2 (W^2)^T o sigma'(z^1)"),
    Claim("rule4_l2", wrt="z2", kind="recursion", uses=D1,
          formula=lambda delta1, W3, z2: (delta1 @ W3.T) * _dsigma(z2), latex=RULE4,
          locator=_rule(4, 2), expect="correct", reason="delta^{4-2} = delta^2 = delta^1 (W^3)^T o sigma'(z^2)"),
    Claim("rule4_l3", wrt="z3", formula=lambda yhat, y: yhat - y, latex=RULE4,
          locator=_rule(4, 3), expect="correct", reason="delta^{4-3} = delta^1 = yhat - y"),
)

_DELTA1_BATCH = (r"\begin{bmatrix} \delta^1_{1,1} & \delta^1_{1,2} & \delta^1_{1,3} \\ \delta^1_{2,1} &  \delta^1_{2,2} &  "
                 r"\delta^1_{2,3} \\ \delta^1_{3,1} & \delta^1_{3,2} & \delta^1_{3,3} \end{bmatrix}")
_BATCH = dict(model=BATCH_MODEL)
BATCH = (
    Claim("delta1_batch", wrt="z3", **_BATCH,
          formula=lambda yhat, y: stack([yhat[0] - y[0], yhat[1] - y[1], yhat[2] - y[2]]),
          latex=dH(r"\mathbf{z}^3") + r" = \begin{bmatrix} \mathbf{\hat{y}}_1 - \mathbf{y}_1 \\  \mathbf{\hat{y}}_2 - \mathbf{y}_2  \\\mathbf{\hat{y}}_3 - \mathbf{y}_3 \end{bmatrix}= "
                + _DELTA1_BATCH + r" = \delta^1",
          locator=LOC_BATCH + ": 'For dH/dz^3'",
          convention="H summed over the 3 samples (the document never writes the batch loss)",
          expect="correct", reason="each sample's row is its own yhat_i - y_i when H is a sum over samples"),
    Claim("dH_dh2_batch", wrt="h2", formula=dH_dh2_batch, uses=D1, **_BATCH,
          latex=dH(r"\mathbf{h}^2") + r"=\delta^1 (W^3)^T  =" + _DELTA1_BATCH
                + r"\begin{bmatrix} w_{1,1}^3 & w_{2,1}^3 & w_{3,1}^3 & w_{4, 1}^3 \\ w_{1,2}^3 & w_{2,2}^3 & w_{3,2}^3 & w_{4,2} \\ w_{1,3}^3 & w_{2,3}^3 & w_{3,3}^3 & w_{4,3}\end{bmatrix}",
          locator=LOC_BATCH + ": 'For dH/dh^2'",
          expect="correct", reason="row i of dH/dh^2 is sample i's delta^1 (W^3)^T (w_{4,2}, w_{4,3} read as W^3)"),
    Claim("dH_dW3_batch", wrt="W3", formula=lambda h2, delta1: h2.T @ delta1, uses=D1, **_BATCH,
          latex=dHb("W^3") + r" =(\mathbf{h}^2)^T \delta^1",
          locator=LOC_BATCH + ": 'For dH/dW^3'",
          convention="H summed over samples: the matrix product sums the per-sample outer products",
          expect="correct", reason="(h^2)^T delta^1 = sum_i (h^2_i)^T delta^1_i, the sum over samples"),
    Claim("dH_dW3_batch_explicit", wrt="W3", formula=dH_dW3_batch_explicit, uses=D1, **_BATCH,
          latex=dHb("W^3") + r" =(\mathbf{h}^2)^T \delta^1 =\begin{bmatrix} h^2_{1,1} & h^2_{2, 1} & h^2_{3, 1} \\h^2_{1,1} & h^2_{2, 1} & h^2_{3, 1} \\h^2_{1,1} & h^2_{2, 1} & h^2_{3, 1} \\h^2_{1,1} & h^2_{2, 1} & h^2_{3, 1} \\ \end{bmatrix}"
                + _DELTA1_BATCH,
          locator=LOC_BATCH + ": 'For dH/dW^3' (the explicit matrices)",
          expect="incorrect",
          reason="the written (h^2)^T repeats row 1 (unit 1) four times; row r should be [h^2_{1,r} h^2_{2,r} h^2_{3,r}]"),
    Claim("dH_dw3_11_batch", wrt="w3_11", uses=D1, **_BATCH,
          formula=lambda h2, delta1: h2[0, 0] * delta1[0, 0] + h2[1, 0] * delta1[1, 0] + h2[2, 0] * delta1[2, 0],
          latex=dHb("w^3_{1,1}") + r" = h^2_{1, 1} \delta^1_{1, 1} + h^2_{2, 1} \delta^1_{2, 1} + h^2_{3, 1} \delta^1_{3, 1}",
          locator=LOC_BATCH + ": 'Here we see that'",
          expect="correct", reason="entry (1,1) of (h^2)^T delta^1: a sum over the 3 samples"),
    Claim("dH_db3_1_batch_as_written", wrt="b3_1", uses=D3, **_BATCH,
          formula=lambda delta3: sum(delta3[:, 0]),
          latex=r"\frac{\partial \mathbf{H(y, \hat{y})}}{\partial b^3_{1}} = \sum_{i=1}^{3}\delta^3_{i,1} \quad"
                r"\text{(prose: 'we simply sum up the first column of } \delta^3\text{')}",
          locator=LOC_BATCH + ": 'Since the bias is shared across all samples'",
          expect="incorrect", reason="delta^3 (= dH/dz^1, 3x2) is written where delta^1 (= dH/dz^3) is meant"),
    Claim("dH_db3_1_batch_repaired", wrt="b3_1", uses=D1, **_BATCH,
          formula=lambda delta1: sum(delta1[:, 0]),
          latex=r"\frac{\partial \mathbf{H(y, \hat{y})}}{\partial b^3_{1}} = \sum_{i=1}^{3}\delta^1_{i,1}",
          locator=LOC_BATCH + ": 'Since the bias is shared across all samples'",
          expect="correct", reason="b^3_1 is shared by the 3 samples: sum of column 1 of delta^1"),
    Claim("dH_db3_batch", wrt="b3", uses=D1, **_BATCH,
          formula=lambda delta1: _row(sum(delta1[:, 0]), sum(delta1[:, 1]), sum(delta1[:, 2])),
          latex=dH(r"\mathbf{b}^3") + r" = \begin{bmatrix} \sum_{i=1}^{3}\delta^1_{i, 1} & \sum_{i=1}^{3}\delta^1_{i, 2} & \sum_{i=1}^{3}\delta^1_{i, 3} \end{bmatrix}",
          locator=LOC_BATCH + ": 'Therefore we end up with'",
          expect="correct", reason="column sums of delta^1: the bias is broadcast over the samples"),
    # No claim "dH/db^3 = delta^1" for the batch: the document says the bias gradient is "the only term that
    # will change" with more samples and gives the column sums (dH_db3_batch); the one-sample rule is not its claim.
)

CLAIMS = OUTPUT_LAYER + HIDDEN_LAYER_2_ENTRIES + HIDDEN_LAYER_2 + HIDDEN_LAYER_1 + INPUT_LAYER + RULES + BATCH

NOTATION = """\
| symbol | code | shape | meaning |
|---|---|---|---|
| x | `x` | 1x2 (batch 3x2) | input row(s) |
| W^1, b^1 | `W1`, `b1` | 2x2, 1x2 (written 2x3, 1x3) | z^1 = x W^1 + b^1 |
| h^1 | `h1` | 1x2 | sigma(z^1) |
| W^2, b^2 | `W2`, `b2` | 2x4, 1x4 | z^2 = h^1 W^2 + b^2 |
| h^2 | `h2` | 1x4 | sigma(z^2) |
| W^3, b^3 | `W3`, `b3` (entries `w3_ij`, `b3_j`) | 4x3, 1x3 | z^3 = h^2 W^3 + b^3 |
| yhat | `yhat` | 1x3 | softmax(z^3) per row |
| y | `y` | 1x3 | one-hot label |
| H | `H` | scalar | -sum y log yhat; summed over samples in the batch (a loss, minimised) |
| delta^1, delta^2, delta^3 | `delta1`, `delta2`, `delta3` | like z^3, z^2, z^1 | dH/dz^3, dH/dz^2, dH/dz^1 |
| sigma'(z) | `_dsigma(z)` | like z | sigma(z)(1 - sigma(z)) |
"""

CONVENTIONS = """\
Row vectors, z = h W + b; gradients of H have the shape of the variable; Jacobians in numerator
layout (dz^3/dh^2 is 3x4 = (W^3)^T, as the document writes it). H is the plain (un-averaged)
cross entropy -sum_i y_i log yhat_i, minimised. delta is numbered from the output backwards:
delta^{L-l} = dH/dz^l with L = 4 (delta^1 = dH/dz^3, delta^3 = dH/dz^1). The summary's rules 1-3
hold for l = 1, 2, 3; the output layer (l = 4) has no W^4, b^4. Batch section: the document never
writes the batch loss. It is taken as the SUM over samples, H = -sum_samples sum_i y log yhat: that
is what makes delta^1 = yhat - y row by row, (h^2)^T delta^1 and the column sums of delta^1 right
(a mean would put a factor 1/3 on each). W^1 and b^1 are taken 2x2 and 1x2 (see findings).
"""

FINDINGS = (
    "Shape inconsistency: W^1 is written 2x3 and b^1 1x3, so z^1 = x W^1 + b^1 and h^1 = sigma(z^1) "
    "would be 1x3; but the document writes h^1 = [h^1_1 h^1_2] (1x2), sigma'(z^1) with two entries and "
    "W^2 2x4 (so h^1 must be 1x2). With W^1 2x3, z^2 = h^1 W^2 cannot be formed. This encoding takes "
    "W^1 2x2 and b^1 1x2 (four statements against two); claim dH_dW1_as_written keeps the written shapes.",
    "dz^3_k/dh^2_i is written w^2_{i,k} (entries and the explicit 3x4 matrix) where w^3_{i,k} is meant; "
    "w^2_{3,1}, w^2_{4,1}, ... do not exist (W^2 is 2x4). The middle expression of dz^3_1/dh^2_1 "
    "differentiates w.r.t. h^2_3 and that of dz^3_1/dh^2_2 w.r.t. h^2_1. (A reader comment reports the "
    "superscript typo and the author says it was fixed; this copy still has it.)",
    "dh^2/dz^2: the (1,1) entry is written sigma(z^2_1)(1 - sigma(z^2_2)) instead of sigma(z^2_1)(1 - sigma(z^2_1)); "
    "the next equation's Hadamard form sigma'(z^2) is right.",
    "Hidden layer 2 text: 'the gradients of h^2, W^3, b^2' (b^2 where b^3 is meant).",
    "Batch section: the explicit (h^2)^T repeats the row [h^2_{1,1} h^2_{2,1} h^2_{3,1}] four times "
    "(rows 2-4 should hold units 2-4); (W^3)^T has w_{4,2}, w_{4,3} without superscript; 'sum up the "
    "first column of delta^3' where delta^1 is meant; the batch loss (sum vs mean over samples) is never "
    "written, and only the sum makes the stated formulas right.",
    "Notation slips without numerical consequence: 'H changes with respect to \\hat{z}^3' (no hat exists), "
    "H(y, yhat) and H(yhat, y) both used, w_{2,2} in W^1 without superscript, the column dh^2/dz^2_1 "
    "lists d sigma(z^2_1)/dz^2_k (a row of the Jacobian; equal here because it is diagonal).",
)

SYMBOLS = {
    "x": r"\mathbf{x}", "W1": "W^1", "b1": r"\mathbf{b}^1", "z1": r"\mathbf{z}^1", "h1": r"\mathbf{h}^1",
    "W2": "W^2", "b2": r"\mathbf{b}^2", "z2": r"\mathbf{z}^2", "h2": r"\mathbf{h}^2", "W3": "W^3",
    "b3": r"\mathbf{b}^3", "z3": r"\mathbf{z}^3", "yhat": r"\mathbf{\hat{y}}", "y": r"\mathbf{y}", "H": "H",
    "delta1": r"\delta^1", "delta2": r"\delta^2", "delta3": r"\delta^3", "_dsigma": r"\sigma'\left(#1\right)",
    **{f"w3_{i}{j}": f"w^3_{{{i},{j}}}" for i in range(1, 5) for j in range(1, 4)},
    **{f"b3_{j}": f"b^3_{j}" for j in range(1, 4)},
    **{f"{v}{layer}_{k}": f"{t}^{layer}_{k}" for v, t in (("z", "z"), ("h", "h")) for layer in (1, 2, 3)
       for k in range(1, 5)},
}

FIX_NOTES = {
    "dz3_dh2_explicit": "read with $w^3$ for $w^2$, the matrix is $(W^3)^T$ (claim `dz3_dh2`, correct).",
    "dH_db2_as_written": "$\\mathbf{b}^2$ is a slip for $\\mathbf{b}^3$: multiplying by $\\delta^1$ gives "
                         "$\\partial H / \\partial \\mathbf{b}^3 = \\delta^1$ (claim `dH_db3`, correct).",
    "dH_dW1_as_written": "with $W^1$ 2x2 and $\\mathbf{b}^1$ 1x2, as the rest of the document needs, "
                         "$\\partial H / \\partial W^1 = \\mathbf{x}^T \\delta^3$ (claim `dH_dW1`, correct).",
    "dH_dW3_batch_explicit": "row $r$ of $(\\mathbf{h}^2)^T$ must be $[h^2_{1,r}\\ h^2_{2,r}\\ h^2_{3,r}]$; the "
                             "compact form $(\\mathbf{h}^2)^T \\delta^1$ (claim `dH_dW3_batch`) is correct.",
    "dh2_dz2": "only entry (1,1) is wrong: $\\sigma(z^2_1)(1 - \\sigma(z^2_2))$ must be "
               "$\\sigma(z^2_1)(1 - \\sigma(z^2_1))$.",
}

DERIVATION = Derivation(
    id="001",
    symbols=SYMBOLS,
    fix_notes=FIX_NOTES,
    title=TITLE,
    source="001_be212e6186c688dd.txt",
    model=MODEL,
    claims=CLAIMS,
    description=("Backward pass of a 2-2-4-3 sigmoid/sigmoid/softmax network with cross-entropy loss, "
                 "entry by entry for one sample, then the output layer for a batch of 3 samples."),
    notation=NOTATION,
    conventions=CONVENTIONS,
    findings=FINDINGS,
)
