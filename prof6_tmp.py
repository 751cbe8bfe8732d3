import time, numpy as np, sympy, symengine
from gradcheck.homework.load import load
from gradcheck.oracles import symbolic as S
print("mpfr", getattr(symengine, "have_mpfr", None))
d = load("examples/lstm_step.toml"); c = d.claim("dWh"); model = d.model_of(c)
small, values, syms, subs, sym_values = S._point(model, c.wrt, 0)
of = S.exact_floats(sym_values["loss"])
expr = sympy.sympify(of[()])
t=time.perf_counter(); se = symengine.sympify(expr); print("to se", time.perf_counter()-t)
t=time.perf_counter(); ds = [se.diff(symengine.Symbol(x.name)) for x in syms.reshape(-1)]; print("diff", time.perf_counter()-t)
t=time.perf_counter(); back = [sympy.sympify(x) for x in ds]; print("back", time.perf_counter()-t)
pt = {symengine.Symbol(x.name): symengine.sympify(subs[x]) for x in syms.reshape(-1)}
t=time.perf_counter(); vals = [x.subs(pt).evalf(170, real=True) for x in ds]; print("se eval 170 bits", time.perf_counter()-t, vals[0])
t=time.perf_counter(); f = S._compile(syms, [np.array(back, dtype=object)]); print("lambdify", time.perf_counter()-t)
