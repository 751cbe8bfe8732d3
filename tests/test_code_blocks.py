"""Code blocks ([forward] code, [backward] code), in-place writes on every backend, upstream claims."""

import numpy as np
import pytest

from gradcheck.check import check_claim
from gradcheck.homework import HomeworkError, loads
from gradcheck.homework.code import BlockErrors, parse_block
from gradcheck.homework.runner import MAX_ITERATIONS, run_block
from gradcheck.inplace import add_at, set_at

ALL = {"finite_difference": "pass", "symbolic": "pass", "autodiff": "pass"}


def statuses(d, name):
    r = check_claim(d, d.claim(name))
    return r, {o: v.status for o, v in r.oracles.items()}


# ---------------------------------------------------------------------- in-place semantics per backend
def _backend_values(backend):
    a, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(a), jnp.asarray(v)
    if backend == "sympy":
        import sympy

        return np.array([sympy.Integer(0)] * 3, dtype=object), np.array(sympy.symbols("p q r"), dtype=object)
    return a, v


@pytest.mark.parametrize("backend", ["numpy", "jax", "sympy"])
def test_repeated_indices_last_write_wins_but_add_at_accumulates(backend):
    a, v = _backend_values(backend)
    idx = np.array([0, 0, 2])
    if backend == "jax":
        import jax.numpy as jnp

        idx = jnp.asarray(idx)
    plus = np.asarray(set_at(a, idx, a[idx] + v), dtype=object)  # a[idx] += v
    acc = np.asarray(add_at(a, idx, v), dtype=object)  # np.add.at(a, idx, v)
    ref_a, ref_v = np.zeros(3, dtype=object), np.asarray(v, dtype=object)
    want_plus, want_acc = ref_a.copy(), ref_a.copy()
    want_plus[[0, 0, 2]] += ref_v  # numpy itself: the last write wins
    np.add.at(want_acc, [0, 0, 2], ref_v)
    assert list(plus) == list(want_plus) and list(acc) == list(want_acc)
    assert list(plus) != list(acc)
    assert np.all(np.asarray(a, dtype=object) == 0)  # the input is never changed


def test_jax_last_write_wins_with_traced_indices():
    import jax
    import jax.numpy as jnp

    f = jax.jit(lambda a, idx, v: set_at(a, idx, v))
    out = f(jnp.zeros(4), jnp.array([3, 1, 3, 3]), jnp.array([1.0, 2.0, 3.0, 4.0]))
    want = np.zeros(4)
    want[[3, 1, 3, 3]] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(np.asarray(out), want)


def test_write_keeps_a_complex_step_and_sympy_values():
    z = set_at(np.zeros(2), 0, 1 + 1e-20j)
    assert np.iscomplexobj(z) and z[0].imag == 1e-20
    import sympy

    s = set_at(np.zeros(2), 1, sympy.Symbol("t"))
    assert s.dtype == object and s[1] == sympy.Symbol("t")


# ---------------------------------------------------------------------- forward blocks on all three oracles
REPEATS = """
[dims]
C = 3
N = 5
[data]
x = { shape = ["N"] }
y = { value = [0, 0, 2, 1, 0] }
[params]
w = ["C"]
[forward]
code = '''
a = np.zeros(C)
a[y] += w[y] * x
b = np.zeros(C)
np.add.at(b, y, w[y] * x)
loss = np.sum(a ** 2) + 3 * np.sum(b ** 2)
'''
[[claims]]
name = "dw"
wrt = "w"
formula = "2 * a * x[np.array([4, 3, 2])] + 6 * b * np.array([x[0] + x[1] + x[4], x[3], x[2]])"
[[claims]]
name = "dw_swapped"
wrt = "w"
formula = "6 * a * x[np.array([4, 3, 2])] + 2 * b * np.array([x[0] + x[1] + x[4], x[3], x[2]])"
"""


def test_forward_in_place_writes_follow_numpy_on_every_oracle():
    d = loads(REPEATS, name="repeats.toml")
    r, s = statuses(d, "dw")
    assert s == ALL, r.message
    assert check_claim(d, d.claim("dw_swapped"), oracles=("finite_difference",)).verdict == "incorrect"


LOOPS = """
[dims]
C = 4
H = 2
[constants]
scale = 2.0
[params]
w = ["C"]
[forward]
code = '''
def weight(i, C=C):
    return (i + 1) / C      # a helper whose parameter shadows the dim

def softmax(v):             # shadows the built-in
    return v * scale

s = 0
for i in range(C):
    if i % 2 == 0 and H > 0:
        s += w[i] * weight(i)
    else:
        s += softmax(w[i])
for t in reversed(range(H)):
    if t == 0:
        break
    s = s * 1.0
loss = s ** 2
'''
[[claims]]
name = "dw"
wrt = "w"
formula = "2 * s * np.where(np.arange(C) % 2 == 0, (np.arange(C) + 1) / C, scale)"
"""


def test_loops_ifs_and_helpers_unroll_on_every_oracle():
    d = loads(LOOPS.replace(" and H > 0", ""), name="loops.toml")
    r, s = statuses(d, "dw")
    assert s == ALL, r.message


def test_boolean_operators_in_if_say_what_to_write():
    with pytest.raises(HomeworkError, match="`and`/`or`"):
        loads(LOOPS, name="loops.toml")


def test_if_on_data_values_is_refused_with_advice():
    text = LOOPS.replace(" and H > 0", "").replace("if t == 0:", "if w[0] > 0:")
    with pytest.raises(HomeworkError, match=r"where\(cond, a, b\)"):
        loads(text, name="loops.toml")


def _block(text, **values):
    return run_block(parse_block(text, where="b"), values)


def test_ten_thousand_iterations_run_and_the_cap_is_a_clear_error():
    assert MAX_ITERATIONS >= 10_000
    assert _block("s = 0\nfor i in range(n):\n    s += 1\n", n=10_000)["s"] == 10_000
    with pytest.raises(Exception, match="more than 100,000 iterations"):
        _block("s = 0\nfor i in range(n):\n    for j in range(n):\n        s += 1\n", n=400)


def test_helpers_have_local_scope_and_return_tuples():
    out = _block("def f(x, N):\n    t = x * N\n    return t, t + 1\np, q = f(a, 3)\n", a=np.ones(2), N=5)
    assert "t" not in out and np.all(out["p"] == 3) and np.all(out["q"] == 4)


def test_aliased_in_place_change_is_refused():
    with pytest.raises(Exception, match=r"write `d = probs.copy\(\)`"):
        _block("d = probs\nd[0] -= 1\nz = probs + 1\n", probs=np.ones(3))
    out = _block("d = probs.copy()\nd[0] -= 1\nz = probs + 1\n", probs=np.ones(3))
    assert out["z"][0] == 2 and out["d"][0] == 0


def test_mask_writes_and_reads():
    h = np.array([[1.0, -1.0], [-2.0, 3.0]])
    out = _block("dh = g.copy()\ndh[h <= 0] = 0\nm = h > 0\ne = g.copy()\ne[m] += 1\nr = g[m]\n", g=np.ones((2, 2)), h=h)
    np.testing.assert_array_equal(out["dh"], (h > 0) * 1.0)
    np.testing.assert_array_equal(out["e"], 1 + (h > 0))
    np.testing.assert_array_equal(out["r"], [1.0, 1.0])


def test_every_problem_of_a_block_is_reported_with_file_lines():
    text = "x = X ^ 2\nimport numpy as np\ny = np.random.randn(3)\nwhile True:\n    pass\nz = foo(x)\n"
    with pytest.raises(BlockErrors) as info:
        parse_block(text, where="f.toml: [forward] code", line_offset=10)
    lines = [e.line for e in info.value.errors]
    assert lines == [11, 12, 13, 14, 16]
    msg = str(info.value)
    assert "column 7" in msg.splitlines()[0] and "use ** for powers" in msg
    assert "draw it as data" in msg and "remove the import" in msg and "for i in range(n)" in msg


# ---------------------------------------------------------------------- backward blocks and claims
TWO_LAYER = """
[dims]
N = 5
D = 4
H = 6
C = 3
[constants]
reg = 0.1
[data]
X = { shape = ["N", "D"] }
y = { shape = ["N"], kind = "labels", classes = "C" }
[params]
W1 = ["D", "H"]
W2 = ["H", "C"]
[forward]
code = '''
h = np.maximum(0, X.dot(W1))
scores = h.dot(W2)
scores -= np.max(scores, axis=1, keepdims=True)
probs = np.exp(scores) / np.sum(np.exp(scores), axis=1, keepdims=True)
loss = -np.sum(np.log(probs[np.arange(N), y])) / N + 0.5 * reg * np.sum(W2 * W2)
'''
[backward]
code = '''
dscores = probs.copy()
dscores[np.arange(N), y] -= 1
dscores /= N
dW2 = h.T.dot(dscores) + reg * W2
dh = dscores.dot(W2.T)
dh[h <= 0] = 0
dW1 = X.T.dot(dh)
h = h * 0                      # rebinding a forward name is local to the block
dW1_bad = X.dot(dh)
'''
[[claims]]
name = "dW2"
wrt = "W2"
formula = "dW2"
[[claims]]
name = "dW1"
wrt = "W1"
formula = "dW1"
[[claims]]
name = "dh_in_formula"
wrt = "W1"
formula = "X.T.dot(dh)"
[[claims]]
name = "dW1_bad"
wrt = "W1"
formula = "dW1_bad"
"""


@pytest.mark.parametrize("name", ["dW2", "dW1", "dh_in_formula"])
def test_backward_block_names_are_claims_on_every_oracle(name):
    d = loads(TWO_LAYER, name="two_layer.toml")
    r, s = statuses(d, name)
    assert s == ALL and r.verdict == "correct", r.message
    assert [st.name for st in d.model.step_list] == ["h", "scores__18", "scores", "probs", "loss"]


def test_failing_backward_statement_names_its_line():
    d = loads(TWO_LAYER, name="two_layer.toml")
    r = check_claim(d, d.claim("dW1_bad"), oracles=("finite_difference",))
    assert r.verdict == "shape error"
    assert "[backward] code: line 33" in r.message and "dW1_bad = X.dot(dh)" in r.message


def test_unknown_name_in_backward_suggests_from_the_vocabulary():
    text = TWO_LAYER.replace("dW1 = X.T.dot(dh)", "dW1 = X.T.dot(dhh)").replace(
        "dW2 = h.T.dot(dscores)", "dW2 = h.T.dot(dscore)")
    with pytest.raises(HomeworkError) as info:
        loads(text, name="two_layer.toml")
    msg = str(info.value)
    assert "'dscore'; did you mean 'dscores'" in msg and "'dhh'; did you mean 'dh'" in msg
    assert "line 28" in msg and "line 31" in msg and "scores__" not in msg


# ---------------------------------------------------------------------- upstream claims
AFFINE = """
[dims]
N = 3
D = 4
H = 2
[data]
x = { shape = ["N", "D"] }
[params]
w = ["D", "4*H"]
b = ["4*H"]
[forward]
code = '''
out = x.dot(w) + b
'''
[backward]
code = '''
def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T)
    dw = x.T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db

dx, dw, db = affine_backward(dout, (x, w, b))
dw_t = dout.T.dot(x)
db_nosum = dout
'''
[[claims]]
name = "dx"
wrt = "x"
of = "out"
upstream = "dout"
formula = "dx"
[[claims]]
name = "dw"
wrt = "w"
of = "out"
upstream = "dout"
formula = "dw"
[[claims]]
name = "db"
wrt = "b"
of = "out"
upstream = "dout"
formula = "db"
[[claims]]
name = "dw_t"
wrt = "w"
of = "out"
upstream = "dout"
formula = "dw_t"
[[claims]]
name = "db_nosum"
wrt = "b"
of = "out"
upstream = "dout"
formula = "db_nosum"
"""


@pytest.mark.parametrize("name", ["dx", "dw", "db"])
def test_upstream_claim_is_a_vjp_on_every_oracle(name):
    d = loads(AFFINE, name="affine.toml")
    assert d.model.data["dout"].shape == ("N", "4*H")  # inferred in dims, so reduced dims work too
    r, s = statuses(d, name)
    assert s == ALL and r.verdict == "correct", r.message


@pytest.mark.parametrize("name,kind", [("dw_t", "transpose"), ("db_nosum", "missing batch sum")])
def test_upstream_claim_diagnoses(name, kind):
    d = loads(AFFINE, name="affine.toml")
    r = check_claim(d, d.claim(name), oracles=("finite_difference", "autodiff"))
    assert r.verdict == "incorrect" and r.diagnosis.kind == kind, (r.verdict, r.diagnosis)


def test_upstream_is_one_value_per_point_seen_by_block_and_formula():
    d = loads(AFFINE.replace('formula = "db"', 'formula = "np.sum(dout, axis=0)"'), name="affine.toml")
    _, s = statuses(d, "db")
    assert s == ALL
    from gradcheck.points import draw_points

    p1, p2 = draw_points(d.model, 2, seed=0)
    assert not np.allclose(p1.values["dout"], p2.values["dout"])


def test_upstream_needs_of():
    with pytest.raises(HomeworkError, match="needs `of`"):
        loads(AFFINE.replace('of = "out"\nupstream = "dout"\nformula = "dx"', 'upstream = "dout"\nformula = "dx"'),
              name="affine.toml")


# ---------------------------------------------------------------------- the pasted examples
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
PASTED = ["softmax_classifier_labels", "svm_vectorized", "two_layer_net_backward", "batchnorm_backward_dout",
          "lstm_step_backward", "matrix_calculus_sheet"]


@pytest.mark.parametrize("stem", PASTED)
def test_pasted_example_is_numpy_code_with_wrong_lines(stem):
    from gradcheck.homework import load

    text = (ROOT / "examples" / f"{stem}.toml").read_text()
    assert "code = '''" in text and "np." in text
    d = load(ROOT / "examples" / f"{stem}.toml")
    assert any(c.expect == "incorrect" and c.reason for c in d.claims)


@pytest.mark.parametrize("stem", ["svm_vectorized", "batchnorm_backward_dout"])
def test_pasted_example_matches_expectations_on_all_three_oracles(stem):
    from gradcheck.homework import load

    d = load(ROOT / "examples" / f"{stem}.toml")
    for claim in d.claims:
        r = check_claim(d, claim)
        assert r.expected_ok, (claim.name, r.verdict, r.message, r.diagnosis)
        assert all(v.status in ("pass", "fail", "shape") for v in r.oracles.values()), (claim.name, r.oracles)


BAD_FILE = """[dims]
N = 3
D = 2
[data]
X = { shape = ["N", "D"] }
[params]
W = ["D", "D"]
[forward]
Z = "X.dot(W) ^ 2"
A = "np.random.randn(N, D) * Z"
loss = "np.sum(tanhh(A))"
[backward]
code = '''
dZ = 2 * Z
while True:
    pass
'''
[[claims]]
name = "dW"
wrt = "W"
formula = "X.T.dot(dZ) ^ 2"
"""


def test_every_problem_of_a_file_in_one_run_with_file_lines_and_columns():
    with pytest.raises(HomeworkError) as info:
        loads(BAD_FILE, name="bad.toml")
    lines = str(info.value).splitlines()
    assert len(lines) == 5, lines
    assert lines[0].startswith("bad.toml: step 'Z': line 9, column 15:") and "use ** for powers" in lines[0]
    assert "line 10, column 6" in lines[1] and "draw it as data" in lines[1]
    assert "line 11, column 16" in lines[2] and "did you mean tanh" in lines[2]
    assert "[backward] code: line 15, column 1" in lines[3] and "for i in range(n)" in lines[3]
    assert "claim 'dW': line 21, column 24" in lines[4]


WRITES = """
[dims]
N = 3
D = 2
[data]
X = { shape = ["N", "D"] }
[params]
W = ["D", "D"]
v = ["N"]
[forward]
code = '''
def split_cols(A):
    return A[:, :1], A[:, 1:]

Z = X.dot(W)
h = Z.copy()
h[h < 0] = 0                 # relu as a mask write
h[:, 0] += v                 # slice augmented assignment
left, right = split_cols(h)
right *= 2.0
right /= 4.0
loss = np.sum(left ** 2) + np.sum(right ** 3)
'''
[[claims]]
name = "dZ"
wrt = "Z"
formula = "(Z > 0) * np.hstack((2 * left, 3 * right ** 2 * 0.5))"
[[claims]]
name = "dv"
wrt = "v"
formula = "2 * left[:, 0]"
"""


@pytest.mark.parametrize("name", ["dZ", "dv"])
def test_forward_mask_slice_tuple_and_augmented_writes_on_every_oracle(name):
    d = loads(WRITES, name="writes.toml")
    r, s = statuses(d, name)
    assert s == ALL, (r.verdict, r.message, {o: v.message for o, v in r.oracles.items()})


def test_loop_bounds_from_shapes_len_and_arguments():
    text = ("def f(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"
            "a = 0\nfor i in range(x.shape[0]):\n    a += 1\nb = 0\nfor j in range(1, len(x)):\n    b += 2\nc = f(4)\n")
    out = _block(text, x=np.ones((3, 2)))
    assert (out["a"], out["b"], out["c"]) == (3, 4, 6)


def test_repair_of_a_backward_block_name_is_found_and_confirmed():
    from gradcheck.homework import load
    from gradcheck.repair import find_repair

    d = load(ROOT / "examples" / "batchnorm_backward_dout.toml")
    out = find_repair(d, d.claim("dbeta_nosum"), oracles=("finite_difference",))
    assert out.repair is not None and "sum(dbeta_nosum, axis=0)" in out.repair.text


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), idx=st.lists(st.integers(0, 5), min_size=1, max_size=8), seed=st.integers(0, 1000))
def test_in_place_updates_match_numpy_on_jax_for_any_repeated_indices(n, idx, seed):
    import jax.numpy as jnp

    from gradcheck.oracles.autodiff import _jax

    _jax()  # float64, as in the autodiff oracle
    idx = np.array([i % n for i in idx])
    rng = np.random.default_rng(seed)
    a, v = rng.standard_normal(n), rng.standard_normal(idx.size)
    want_set, want_acc = a.copy(), a.copy()
    want_set[idx] += v
    np.add.at(want_acc, idx, v)
    for backend_a, backend_idx, backend_v in ((a, idx, v), (jnp.asarray(a), jnp.asarray(idx), jnp.asarray(v))):
        got_set = set_at(backend_a, backend_idx, backend_a[backend_idx] + backend_v)
        got_acc = add_at(backend_a, backend_idx, backend_v)
        np.testing.assert_array_equal(np.asarray(got_set), want_set)  # the same writes: exactly equal
        np.testing.assert_allclose(np.asarray(got_acc), want_acc, rtol=0, atol=1e-12)


def test_forward_may_rebind_dims_and_inputs_and_write_twice_on_a_line():
    text = """
[dims]
N = 3
D = 2
[data]
X = { shape = ["N", "D"] }
[params]
W = ["D", "D"]
[forward]
code = '''
N = X.shape[0]
X = X.reshape(N, -1) * 1.0
a = X.dot(W); a = a * 2
loss = np.sum(a ** 2) / N
'''
[[claims]]
name = "dW"
wrt = "W"
formula = "X.T.dot(2 * a) * 2 / N"
"""
    d = loads(text, name="rebind.toml")
    names = [s.name for s in d.model.step_list]
    assert names == ["N__11", "X__12", "a__13", "a", "loss"], names
    r = check_claim(d, d.claim("dW"), oracles=("finite_difference", "autodiff"))
    assert r.verdict == "correct", r.message


ALIASED = """
[dims]
N = 3
[params]
w = ["N"]
[forward]
code = '''
z = w * 2
h = z
h[h < 0] = 0
loss = np.sum(h * z)
'''
[[claims]]
name = "dw"
wrt = "w"
formula = "4 * w"
"""


@pytest.mark.parametrize("alias,refused", [("z", True), ("z.T", True), ("z[:]", True), ("z.reshape(-1)", True),
                                           ("z.copy()", False), ("z * 1", False)])
def test_forward_aliasing_follows_numpy_or_is_refused(alias, refused):
    text = ALIASED.replace("h = z\n", f"h = {alias}\n")
    if refused:
        with pytest.raises(HomeworkError, match=r"'z' was changed in place through 'h'.*h = z.copy\(\)"):
            loads(text, name="alias.toml")
    else:
        d = loads(text, name="alias.toml")
        assert check_claim(d, d.claim("dw"), oracles=("finite_difference",)).verdict == "incorrect"  # relu'd h


def test_sizes_computed_in_the_forward_block_stay_integers_for_the_backward_block():
    text = TWO_LAYER.replace("h = np.maximum(0, X.dot(W1))", "num_train = X.shape[0]\nh = np.maximum(0, X.dot(W1))").replace(
        "dscores /= N\n", "if num_train > 1:\n    dscores /= num_train\nfor i in range(num_train):\n    pass\n")
    d = loads(text, name="two_layer.toml")
    r, s = statuses(d, "dW2")
    assert s == ALL, (r.message, {o: v.message for o, v in r.oracles.items()})


def test_scalar_rebinding_is_not_aliasing():
    out = _block("data_loss = np.sum(x)\nloss = data_loss\nloss += 1\nc = data_loss + 0\n", x=np.ones(3))
    assert out["loss"] == 4 and out["c"] == 3
