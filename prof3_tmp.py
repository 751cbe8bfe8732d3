import sys, time, numpy as np, sympy
from gradcheck.homework.load import load
from gradcheck.oracles import symbolic as S
from gradcheck import kinks
from gradcheck.oracles.common import evaluate_formula
d = load(sys.argv[1]); name = sys.argv[2]
c = d.claim(name); model = d.model_of(c); uses = d.derivative_names(c)
small, values, syms, subs, sym_values, of_value, jac = S._setup(model, c.wrt, c.target(model), 0)
with kinks.sympy_substitution(subs):
    derivs = {n: S._use(model, c.wrt, 0, o, w) for n, (o, w) in uses.items()}
    claimed = S.exact_floats(evaluate_formula(c, small, sym_values, derivs))
truth, _ = S._truth(model, c, 0)
diff = S._as_obj(claimed - truth)
for idx in list(np.ndindex(diff.shape))[:3]:
    e = sympy.sympify(diff[idx])
    print(idx, sympy.count_ops(e))
    for nm, f in [("expand", sympy.expand), ("cancel-exp", lambda e: sympy.cancel(sympy.expand(e.rewrite(sympy.exp)))),
                  ("together-exp", lambda e: sympy.expand(sympy.together(sympy.powsimp(e.rewrite(sympy.exp))))) ]:
        t = time.perf_counter(); r = f(e); print("  ", nm, r == 0, f"{time.perf_counter()-t:.3f}")
