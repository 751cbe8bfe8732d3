import sys, time, cProfile, pstats
from gradcheck.homework.load import load
import gradcheck; print(gradcheck.__file__)
from gradcheck.oracles.symbolic import symbolic
import sympy
d = load(sys.argv[1])
a, n = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, len(d.claims))
pr = cProfile.Profile()
t0 = time.perf_counter()
pr.enable()
for c in d.claims[a:n]:
    t = time.perf_counter()
    try:
        m = symbolic(d.model_of(c), c, [], d.derivative_names(c), seed=0)
        print(c.name, f"{time.perf_counter()-t:.2f}", m.error or m.points[0].decided)
    except Exception as e:
        print(c.name, "ERR", e)
pr.disable()
print("total", time.perf_counter()-t0)
st = pstats.Stats(pr); st.sort_stats('cumulative').print_stats(r'symbolic|lambdify|simplify|diff|evalf|xreplace', 25)
