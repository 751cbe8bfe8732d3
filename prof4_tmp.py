import time, sys
t0=time.perf_counter()
from gradcheck.homework.load import load
from gradcheck.oracles.autodiff import autodiff, _jax
from gradcheck.points import draw_points
jax=_jax(); print("import", time.perf_counter()-t0)
d = load(sys.argv[1])
jit = sys.argv[2] == "jit"
t0=time.perf_counter()
for c in d.claims:
    m = d.model_of(c); pts = draw_points(m, 3, seed=0)
    t=time.perf_counter(); autodiff(m, c, pts, d.derivative_names(c), jit=jit); print(c.name, f"{time.perf_counter()-t:.3f}")
print("total", time.perf_counter()-t0)
