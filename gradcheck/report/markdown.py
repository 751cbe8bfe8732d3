"""REPORT.md: GitHub-flavoured markdown (pipe tables, ``$...$`` / ``$$...$$`` math).

Deterministic: no timings, no dates; numbers are printed with fixed formats.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from typing import Any, Mapping, Sequence

import numpy as np

from gradcheck.verdict import stable_errors
from gradcheck.report.summary import VERDICT_ORDER, ClaimSummary, DocInfo, counts, doc_info, summarize

ORACLE_LABELS = {"finite_difference": "finite differences", "symbolic": "SymPy", "autodiff": "JAX"}
ALL_ORACLES = ("finite_difference", "symbolic", "autodiff")


# ---------------------------------------------------------------------------------------- formatting
def cell(text: Any) -> str:
    """Plain text for a table cell: one line, ``|`` escaped."""
    s = " ".join(str(text).split())
    return s.replace("|", r"\|")


def math_text(latex: str) -> str:
    """LaTeX without pipes (they would end a table cell on GitHub) or line breaks."""
    s = " ".join(str(latex).split())
    s = s.replace(r"\|", r"\Vert ").replace("|", r"\vert ")
    return s.strip()


def inline_math(latex: str) -> str:
    s = math_text(latex)
    return f"${s}$" if s else ""


def code(text: Any) -> str:
    """Inline code for a table cell (backticks and pipes made safe)."""
    s = " ".join(str(text).split()).replace("`", "'")
    return f"`{s}`".replace("|", r"\|") if s else ""


def num(x: float | None) -> str:
    if x is None:
        return "—"
    if x != x:  # NaN
        return "nan"
    if x == 0:
        return "0"
    return f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.3g}"


LAYOUT_TEXT = {"squeezed": "squeezed (the numerator-layout shape without its length-1 axes: 1 x n rows "
                            "written as vectors)", "row": "row (a 1 x N row vector)",
               "column": "column (an N x 1 column vector)", "flat": "flat (N entries, one axis)"}


def rel_text(v: Any) -> str:
    """An oracle's max relative error, stable across machines (see gradcheck.verdict.stable_errors)."""
    return stable_errors(v)[1] or "—"


def short(text: str, n: int = 90) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


def array_text(a: Any, limit: int = 24) -> str:
    """Compact one-line text of an array: all entries up to ``limit``, else shape and a few entries."""
    if a is None:
        return "—"
    arr = np.asarray(a)
    if arr.dtype == object:
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            return short(repr(a), 200)
    if np.iscomplexobj(arr):
        arr = np.real(arr)
    arr = without_noise(arr)
    with np.printoptions(precision=4, suppress=False, floatmode="maxprec", threshold=limit, edgeitems=2,
                         linewidth=10_000, sign="-"):
        body = np.array2string(arr, separator=", ")
    body = " ".join(body.split())
    return body if arr.ndim == 0 else f"shape {arr.shape}: {body}"


def without_noise(arr: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Entries below ``floor`` times the largest one are rounding noise: printed as 0 (their sign and
    digits, and numpy's choice of scientific notation for the whole array, would differ by machine)."""
    if arr.dtype.kind != "f" or arr.size == 0 or not np.all(np.isfinite(arr)):
        return arr
    scale = float(np.max(np.abs(arr)))
    return np.where(np.abs(arr) <= floor * scale, 0.0, arr) if scale > 0 else np.zeros_like(arr)


def anchor(s: ClaimSummary) -> str:
    """GitHub's heading anchor for ``### {document}/{name}``."""
    text = f"{s.document}/{s.name}".lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


# ---------------------------------------------------------------------------------------- oracle cells
def oracle_cell(s: ClaimSummary, oracle: str) -> str:
    v = s.oracles.get(oracle)
    if v is None:
        return "—"
    if v.status == "pass":
        if oracle == "symbolic":
            return f"✓ {v.detail or 'pass'}"
        return f"✓ {rel_text(v)}"
    if v.status == "fail":
        if oracle == "symbolic":
            return f"✗ {v.detail or 'fail'} (rel {rel_text(v)})" if v.max_rel_err is not None else "✗"
        return f"✗ {rel_text(v)}"
    if v.status == "shape":
        return "✗ shape"
    if v.status == "non-smooth":
        return "non-smooth"
    if v.status == "skipped":
        return f"— skipped: {short(v.message, 60)}"
    return f"error: {short(v.message, 60)}"


def verdict_cell(s: ClaimSummary) -> str:
    wanted = s.expect
    if s.expect == s.verdict and s.expect_diagnosis:
        wanted = f"{s.expect}: {s.expect_diagnosis}"
    mark = {True: " ✓", False: f" ✗ (expected {wanted})", None: ""}[s.expected_ok]
    judged = f" ({cell(short(s.judged_by, 120))})" if s.judged_by else ""
    return (f"**{s.verdict}**{mark}" if s.verdict != "correct" else f"{s.verdict}{mark}") + judged


def fix_text(s: ClaimSummary) -> str:
    parts = []
    if s.diagnosis is not None and getattr(s.diagnosis, "fix", None):
        parts.append(s.diagnosis.fix)
    if s.repair is not None:
        parts.append(f"repair: {code(s.repair.formula)}" + (f" (confirmed by {', '.join(s.repair.confirmed_by)})"
                                                          if s.repair.confirmed_by else ""))
    return "; ".join(parts)


def diagnosis_text(s: ClaimSummary) -> str:
    if s.diagnosis is not None:
        return f"{s.diagnosis.kind}: {s.diagnosis.text}"
    if s.verdict != "correct" and s.message:
        return s.message
    return ""


# ---------------------------------------------------------------------------------------- sections
SUMMARY_HEADER = ("| Document | Claims | Correct | Incorrect | Shape error | Not evaluable | Oracles disagree "
                  "| Correct only under the sign convention | As expected |\n"
                  "|---|--:|--:|--:|--:|--:|--:|--:|--:|")


def summary_row(label: str, c: Mapping[str, int]) -> str:
    expected = f"{c['as_expected']}/{c['with_expectation']}" if c["with_expectation"] else "—"
    return (f"| {label} | {c['claims']} | {c['correct']} | {c['incorrect']} | {c['shape_error']} | "
            f"{c['not_evaluable']} | {c['oracles_disagree']} | {c['convention_only']} | {expected} |")


def summary_table(docs: Sequence[tuple[DocInfo, list[ClaimSummary]]]) -> str:
    rows = [SUMMARY_HEADER]
    total: dict[str, int] = {}
    for info, results in docs:
        c = counts(results)
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
        rows.append(summary_row(f"[{cell(info.id)}](#{doc_anchor(info)}) {cell(short(info.title, 70))}", c))
    if len(docs) > 1:
        rows.append(summary_row("**all**", total))
    return "\n".join(rows)


def doc_anchor(info: DocInfo) -> str:
    text = f"{info.id} {info.title}".lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def dims_text(dims: Mapping[str, int] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (dims or {}).items()) or "(none)"


def dims_section(results: Sequence[ClaimSummary], oracles: Sequence[str]) -> str:
    lines = []
    for o in oracles:
        seen: dict[str, list[str]] = {}
        for s in results:
            v = s.oracles.get(o)
            if v is None or not v.dims:  # no dims: a model of scalars
                continue
            seen.setdefault(dims_text(v.dims), []).append(s.name)
        if not seen:
            continue
        if len(seen) == 1:
            lines.append(f"- {ORACLE_LABELS.get(o, o)}: {next(iter(seen))}")
        else:
            lines.append(f"- {ORACLE_LABELS.get(o, o)}:")
            for dims, names in seen.items():
                lines.append(f"  - {dims} ({len(names)} claim{'s' if len(names) != 1 else ''})")
    return "\n".join(lines)


def sizes_section(results: Sequence[ClaimSummary]) -> str:
    """Which sizes each claim was checked at: the model's own, and the second size (or why none)."""
    seen: dict[str, list[str]] = {}
    for s in results:
        if s.sizes:
            seen.setdefault(s.sizes, []).append(s.name)
    if len(seen) == 1:
        return f"- {next(iter(seen))}"
    return "\n".join(f"- {sizes} ({', '.join(code(n) for n in names)})" for sizes, names in seen.items())


def claims_table(results: Sequence[ClaimSummary], oracles: Sequence[str]) -> str:
    head = ["Claim", "Equation (as written)"] + [ORACLE_LABELS.get(o, o) for o in oracles] + \
           ["Verdict", "Diagnosis", "Fix"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in results:
        name = f"[{code(s.name)}](#{anchor(s)})" if s.verdict != "correct" else code(s.name)
        cells = [name, inline_math(s.latex) or code(s.formula_source)]
        cells += [cell(oracle_cell(s, o)) for o in oracles]
        cells += [verdict_cell(s), cell(short(diagnosis_text(s), 140)), cell(fix_text(s))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def oracle_line(o: str, v: Any) -> str:
    label = ORACLE_LABELS.get(o, o)
    bits = [f"**{v.status}**", v.method or ""]
    if v.detail:
        bits.append(v.detail)
    if v.max_abs_err is not None:
        abs_text, rel = stable_errors(v)
        bits.append(f"max abs error {abs_text}, max relative error {rel}"
                    + (f", tolerance {v.tolerance:g} relative" if v.tolerance is not None else ""))
    if v.dims:
        bits.append(f"dims {dims_text(v.dims)}")
    if v.message:
        bits.append(short(v.message, 400))
    return f"- {label}: " + "; ".join(b for b in bits if b)


def details(s: ClaimSummary, results: Sequence[ClaimSummary], figures: Mapping[tuple[str, str], str],
            oracles: Sequence[str]) -> str:
    out = [f"#### {s.document}/{s.name}", ""]
    if s.locator:
        out += [f"*Where:* {s.locator}", ""]
    out.append(f"*Claim:* {s.kind} of `{s.of}` with respect to `{s.wrt}`"
               + (f" ({s.layout} layout)" if s.kind == "jacobian" or s.layout != "numerator" else "")
               + f"; model: {s.model_name}")
    if s.layout not in ("numerator", "denominator"):
        out += ["", f"*Layout:* {LAYOUT_TEXT.get(s.layout, s.layout)}: declared by the derivation for the "
                "document's own convention, so the true value is compared in that shape"]
    out.append("")
    if s.latex:
        out += ["The document writes:", "", "$$", math_text(s.latex), "$$", ""]
    if s.formula_source:
        out += ["Checked as:", "", "```python", s.formula_source, "```", ""]
    exp = f"expected **{s.expect}**" if s.expect else "no expectation recorded"
    match = {True: "as expected", False: "**NOT as expected**", None: ""}[s.expected_ok]
    out.append(f"*Verdict:* **{s.verdict}** ({exp}{'; ' + match if match else ''})"
               + (f". Expected diagnosis: {s.expect_diagnosis}." if s.expect_diagnosis else ""))
    if s.reason:
        out += ["", f"*Why:* {s.reason}"]
    if s.convention:
        out += ["", f"*Convention:* {s.convention}"]
    if s.message:
        out += ["", f"*Message:* {s.message}"]
    if s.judged_by:
        out += ["", f"*Oracles:* {s.judged_by}"]
    if s.diagnosis is not None:
        d = s.diagnosis
        line = f"*Diagnosis:* {d.kind}: {d.text}"
        if getattr(d, "factor", None) is not None:
            line += f" (factor {d.factor:.6g})"
        if d.fix:
            line += f". Fix: {d.fix}."
        out += ["", line]
    if s.repair is not None:
        line = f"*Repair found:* `{' '.join(s.repair.formula.split())}`"
        if s.repair.edits:
            line += "; edits: " + "; ".join(s.repair.edits)
        if s.repair.confirmed_by:
            line += f"; confirmed by {', '.join(ORACLE_LABELS.get(o, o) for o in s.repair.confirmed_by)}"
        out += ["", line + "."]
    sibling = next((r for r in results if r.name in (f"{s.name}_repaired", f"{s.name}_corrected", f"{s.name}_fixed")),
                   None)
    if sibling is not None:
        ok = "correct" if sibling.verdict == "correct" else sibling.verdict
        out += ["", f"*Corrected formula:* claim `{sibling.name}` ({ok})"
                + (f": ${math_text(sibling.latex)}$" if sibling.latex else "")
                + (f", checked as `{' '.join(sibling.formula_source.split())}`" if sibling.formula_source else "")]
    if s.oracles:
        out += ["", "*Oracles:*", ""] + [oracle_line(o, s.oracles[o]) for o in oracles if o in s.oracles]
    if s.point:
        out += ["", "*Point (first of the seeded points):*", ""]
        out += [f"- `{k}` = {array_text(v)}" for k, v in s.point.items()]
    if s.claimed is not None or s.truth is not None:
        out += ["", "*At that point:*", "", f"- claimed: {array_text(s.claimed)}", f"- true: {array_text(s.truth)}"]
    fig = figures.get((s.document, s.name))
    if fig:
        out += ["", f"![{s.document}/{s.name}: claimed, true and their difference]({fig})"]
    if s.notes:
        out += ["", "*Notes:* " + "; ".join(dict.fromkeys(s.notes))]
    return "\n".join(out)


def document_section(info: DocInfo, results: Sequence[ClaimSummary], figures: Mapping[tuple[str, str], str],
                     oracles: Sequence[str]) -> str:
    out = [f"## {info.id} {info.title}", ""]
    if info.source:
        out += [f"Source: `{info.source}`", ""]
    if info.description:
        out += [info.description.strip(), ""]
    if info.notation:
        out += ["### Notation", "", info.notation.strip(), ""]
    if info.conventions:
        out += ["### Conventions", "", info.conventions.strip(), ""]
    if info.findings:
        out += ["### Findings", ""] + [f"- {' '.join(f.split())}" for f in info.findings] + [""]
    dims = dims_section(results, oracles)
    if dims:
        out += ["### Dimensions used by each oracle", "", dims, ""]
    declared = [s for s in results if s.layout not in ("numerator", "denominator")]
    if declared:
        out += ["### Declared layouts (the document's own convention)", ""]
        out += [f"- {code(s.name)}: {LAYOUT_TEXT.get(s.layout, s.layout)}" for s in declared] + [""]
    sizes = sizes_section(results)
    if sizes:
        out += ["### Sizes (first size, and the second size every verdict must also hold at)", "", sizes, ""]
    out += ["### Claims", "", claims_table(results, oracles), ""]
    bad = [s for s in results if s.verdict != "correct"]
    if bad:
        out += ["### Details of the claims that are not correct", ""]
        for s in bad:
            out += [details(s, results, figures, oracles), ""]
    return "\n".join(out)


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def method_section(oracles: Sequence[str]) -> str:
    from gradcheck import __version__
    from gradcheck.check import N_POINTS
    from gradcheck.diagnose import MATCH_RTOL
    from gradcheck.oracles import finite_difference as fd
    from gradcheck.oracles import symbolic as sy
    from gradcheck.points import KINK_MARGIN, MAX_DRAWS
    from gradcheck.report.run import SEED
    from gradcheck.verdict import SAFETY, TOLERANCES

    out = ["## How it was checked", ""]
    out.append(f"gradcheck {__version__}; Python {platform.python_version()}, numpy {_version('numpy')}, "
               f"SymPy {_version('sympy')}, mpmath {_version('mpmath')}, JAX {_version('jax')} "
               f"(jaxlib {_version('jaxlib')}, float64), matplotlib {_version('matplotlib')}.")
    out += ["", f"Oracles run: {', '.join(ORACLE_LABELS.get(o, o) for o in oracles)}.", ""]
    out.append(f"Every claim is evaluated at {N_POINTS} points drawn with seed {SEED} "
               "(`numpy.random.default_rng`); data and parameters are redrawn (up to "
               f"{MAX_DRAWS} times) until every piecewise function (ReLU, abs, max) is at least {KINK_MARGIN:g} "
               "away from its kink. Quantities named in a claim's `uses` are replaced by their true values, so each "
               "equation is judged on its own and errors are charged to the equation that makes them.")
    out += ["", "An oracle passes a claim at a point when "
            "$\\max\\vert c - t\\vert \\le \\mathrm{rtol} \\cdot \\max\\vert t\\vert + "
            f"{SAFETY:g}\\,\\varepsilon_t$, "
            "where $c$ is the claimed value, $t$ the oracle's true value and $\\varepsilon_t$ the oracle's own "
            "estimate of its error in $t$. The verdict is *correct* when every deciding oracle passes at every point, "
            "*incorrect* when every one fails; any split is reported as *oracles disagree*, never averaged away.", ""]
    out += ["| Method | rtol | Why |", "|---|--:|---|"]
    out += [f"| {cell(k)} | {v[0]:g} | {cell(v[1])} |" for k, v in TOLERANCES.items()]
    out += ["", "Finite differences: complex step $h = {:g}\\max(1, \\vert x_k\\vert)$ (validated against central "
            "differences along random directions, relative tolerance {:g}); central differences "
            "$h = \\varepsilon^{{1/3}} \\max(1, \\vert x_k\\vert) \\approx {:.3g}$ with Richardson extrapolation over "
            "$h$ and $2h$ (a disagreement beyond {:g} relative marks the point non-smooth); random-direction "
            "probes ({} Rademacher directions) above {} entries.".format(
                fd.COMPLEX_STEP, fd.COMPLEX_VALIDATION_RTOL, fd.CENTRAL_STEP, fd.NONSMOOTH_RTOL, fd.N_PROBES,
                fd.MAX_FULL)]
    out += ["", f"SymPy: the differentiated quantity is a matrix of symbols, everything else exact rationals; "
            f"claim minus truth is evaluated to {sy.DIGITS} digits (a gap above {sy.ZERO_TOL:g} disproves it), then "
            f"simplified to 0 entry by entry for entries of at most {sy.PROOF_MAX_OPS} operations (*proved*), "
            f"else evaluated at 3 more random points to {sy.DIGITS} digits (*numeric*); models with a dim above "
            f"{sy.AUTO_DIM_CAP} are checked at reduced dims (listed per document); at most {sy.MAX_SYMBOLS} symbols.",
            "",
            "JAX: reverse-mode autodiff of the same model in float64 (`jax_enable_x64`).", "",
            f"Diagnosis: a relation (sign, transpose, scale factor, batch sum) is named when it reproduces the true "
            f"value to {MATCH_RTOL:g} relative.", ""]
    return "\n".join(out)


def render_markdown(doc_results: Sequence[tuple[Any, Sequence[Any]]], *,
                    figures: Mapping[tuple[str, str], str] | None = None, oracles: Sequence[str] | None = None,
                    title: str = "gradcheck discrepancy report", intro: str | None = None,
                    method: bool = True) -> str:
    """The report as markdown. ``doc_results``: ``[(Derivation | DocInfo | mapping, [ClaimResult | ClaimSummary])]``;
    ``figures``: ``{(doc_id, claim_name): relative PNG path}`` from :func:`gradcheck.report.figures.write_figures`."""
    figures = dict(figures or {})
    docs = []
    for doc, results in doc_results:
        info = doc_info(doc)
        docs.append((info, [summarize(r, k, info.id) for k, r in enumerate(results)]))
    ran = {o for _, rs in docs for s in rs for o in s.oracles}
    oracles = tuple(o for o in ALL_ORACLES if o in (oracles or ran or ALL_ORACLES)) or ALL_ORACLES
    out = [f"# {title}", ""]
    out.append(intro if intro is not None else (
        "Each claim is an equation of a source document: a hand-derived derivative. It is checked against three "
        "oracles (finite differences, SymPy, JAX) and gets one verdict: " + ", ".join(VERDICT_ORDER)
        + ". Claims that are not correct get a diagnosis (sign flip, transpose, scale factor, mean vs sum, "
          "missing batch sum) and, where possible, a fix. *As expected* compares each verdict with the one the "
          "derivation's author recorded."))
    out += ["", "## Summary", "", summary_table(docs), ""]
    for info, results in docs:
        out += [document_section(info, results, figures, oracles), ""]
    if method:
        out += [method_section(oracles)]
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"
    return text
