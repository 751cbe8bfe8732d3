"""REPORT.md: GitHub-flavoured markdown (pipe tables, ``$...$`` / ``$$...$$`` math).

Deterministic: no timings, no dates; numbers are printed with fixed formats.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from typing import Any, Mapping, Sequence

import numpy as np

from gradcheck import textsafe
from gradcheck.verdict import stable_errors
from gradcheck.report.summary import (VERDICT_ORDER, ClaimSummary, DocInfo, counts, doc_info, repaired_siblings,
                                      summarize)

ORACLE_LABELS = {"finite_difference": "finite differences", "symbolic": "SymPy", "autodiff": "JAX"}
ALL_ORACLES = ("finite_difference", "symbolic", "autodiff")


# ---------------------------------------------------------------------------------------- formatting
def cell(text: Any) -> str:
    """A table cell: one line, ``|`` escaped, and no HTML tag (text from a file may be in it)."""
    s = textsafe.no_html(" ".join(str(text).split()))
    return s.replace("|", r"\|")


def text(value: Any) -> str:
    """Text that comes from a file (a name, a reason, a title): shown literally, no HTML, no link."""
    return textsafe.markdown_text(value)


def math_text(latex: str) -> str:
    """LaTeX without pipes (they would end a table cell on GitHub) or line breaks."""
    s = textsafe.math(" ".join(str(latex).split()))  # < and > as \lt and \gt: no HTML tag can form
    s = s.replace(r"\|", r"\Vert ").replace("|", r"\vert ")
    return s.strip()


def inline_math(latex: str) -> str:
    s = math_text(latex)
    return f"${s}$" if s else ""


def code(text: Any) -> str:
    """Inline code for a table cell (backticks and pipes made safe)."""
    s = textsafe.terminal(" ".join(str(text).split())).replace("`", "'")
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
PASS, FAIL = "✓", "✗"  # oracle marks only; whether a verdict is as expected has its own column and words
CONVENTION_MARK = "†"

LEGEND = (
    "**How to read the tables.** In an oracle column, " + PASS + " means the oracle agrees with the claim (the "
    "number is the largest relative error it measured) and " + FAIL + " means it does not; *shape* means the "
    "formula cannot be evaluated with the document's shapes. **Verdict** is gradcheck's judgement of the "
    "equation. **As expected** says whether that verdict is the one recorded for the document (*yes*, or **no** "
    "with the expected verdict); an *incorrect* claim that was expected to be incorrect is as expected. "
    + CONVENTION_MARK + " marks a claim that is correct only under the document's sign convention (right for the "
    "objective it maximises, wrong for its negation, a loss). **Diagnosis** says what is wrong, in the "
    "document's terms; **Fix** gives the corrected equation in the document's notation, with the edit in words "
    "(the formula as checked, in Python, is in the details below each table).")


def oracle_cell(s: ClaimSummary, oracle: str) -> str:
    v = s.oracles.get(oracle)
    if v is None:
        return "—"
    if v.status == "pass":
        if oracle == "symbolic":
            return f"{PASS} {v.detail or 'pass'}"
        return f"{PASS} {rel_text(v)}"
    if v.status == "fail":
        if oracle == "symbolic":
            return f"{FAIL} {v.detail or 'fail'} (rel {rel_text(v)})" if v.max_rel_err is not None else FAIL
        return f"{FAIL} {rel_text(v)}"
    if v.status == "shape":
        return f"{FAIL} shape"
    if v.status == "non-smooth":
        return "non-smooth"
    if v.status == "skipped":
        return f"— skipped: {short(v.message, 60)}"
    return f"error: {short(v.message, 60)}"


def verdict_cell(s: ClaimSummary) -> str:
    text = f"**{s.verdict}**" if s.verdict != "correct" else s.verdict
    judged = f" ({cell(short(s.judged_by, 120))})" if s.judged_by else ""
    return text + (f" {CONVENTION_MARK}" if s.convention_only else "") + judged


def expected_cell(s: ClaimSummary) -> str:
    if s.expected_ok is None:
        return "—"
    if s.expected_ok:
        return "yes"
    wanted = s.expect or "?"
    if s.expect == s.verdict and s.expect_diagnosis:
        wanted = f"{s.expect}: {s.expect_diagnosis}"
    return f"**no** (expected {wanted})"


def row_anchor(s: ClaimSummary) -> str:
    """An anchor for a claim's row (``<a name>``, which GitHub keeps), for claims without a details heading."""
    return "claim-" + anchor(s)


def claim_link(s: ClaimSummary) -> str:
    return f"[{code(s.name)}](#{anchor(s) if s.verdict != 'correct' else row_anchor(s)})"


def siblings_of(s: ClaimSummary, results: Sequence[ClaimSummary]) -> list[ClaimSummary]:
    """The ``_repaired`` claims that correct a claim that is not correct."""
    if s.verdict == "correct":
        return []
    names = repaired_siblings(s.name, [r.name for r in results])
    return [r for r in results if r.name in names]


def repaired_of(s: ClaimSummary, results: Sequence[ClaimSummary]) -> list[ClaimSummary]:
    """The claims (not correct) that a ``_repaired`` claim corrects."""
    return [r for r in results if r.verdict != "correct" and s in siblings_of(r, results)]


def fix_cell(s: ClaimSummary, results: Sequence[ClaimSummary], notes: Mapping[str, str]) -> str:
    """The fix in the document's notation: the repair found (edits in words, the equation) and the corrected
    claims of the derivation; never Python."""
    parts = []
    siblings = siblings_of(s, results)
    if s.repair is not None and (s.repair.latex or s.repair.words):
        words = " and ".join(s.repair.words)
        # the derivation's corrected claim is the equation in the document's own indices; the search's
        # equation (whole arrays) is then in the details
        eq = "" if siblings else inline_math(s.repair.latex)
        parts.append((f"{words[0].upper()}{words[1:]}" if words else "Repaired") + (f": {eq}" if eq else "")
                     + (f" (found by the repair search, confirmed by "
                        f"{' and '.join(ORACLE_LABELS.get(o, o) for o in s.repair.confirmed_by)})"
                        if s.repair.confirmed_by else ""))
    for sib in siblings:
        ok = "" if sib.verdict == "correct" else f", {sib.verdict}"
        parts.append(f"corrected claim {claim_link(sib)}{ok}: {inline_math(sib.latex)}")
    if not parts and s.diagnosis is not None and getattr(s.diagnosis, "fix", None):
        parts.append(s.diagnosis.fix)
    if s.name in notes:
        parts.append(f"*Note:* {link_claims(notes[s.name], results)}")
    return "; ".join(parts)


def link_claims(text: str, results: Sequence[ClaimSummary]) -> str:
    """`` `name` `` of a claim of the document -> a link to its row or details."""
    by_name = {r.name: r for r in results}
    return re.sub(r"`(\w+)`", lambda m: claim_link(by_name[m.group(1)]) if m.group(1) in by_name else m.group(0), text)


def diagnosis_text(s: ClaimSummary, results: Sequence[ClaimSummary] = (),
                   symbols: Mapping[str, str] | None = None) -> str:
    """What is wrong, in the document's terms: the repair's revelation where the comparison of values found
    no simple relation; the diagnosis; or the (translated) message of a shape error."""
    if s.verdict == "correct":
        fixed = repaired_of(s, results)
        return ("corrects " + ", ".join(claim_link(r) for r in fixed)) if fixed else ""
    d = s.diagnosis
    if d is not None and d.kind == "no simple relation" and s.repair is not None and s.repair.explanation:
        return textsafe.no_html(s.repair.explanation)
    if d is not None:
        return f"{d.kind}: {plain_message(textsafe.no_html(d.text), symbols)}" + (own_error(s, symbols) if d.kind == "no simple relation"
                                                                  else "")
    if s.message:
        return plain_message(textsafe.no_html(s.message), symbols)
    return ""


def own_error(s: ClaimSummary, symbols: Mapping[str, str] | None = None) -> str:
    """For a claim that reads other derivatives: they are the true values, so the error is made in this line."""
    from gradcheck.repair.latex import symbol

    if not s.uses:
        return ""
    uses = {n: (o, w) for n, o, w in s.uses}
    names = ", ".join(f"${symbol(n, symbols, uses)}$" for n in uses)
    return (f". The values it takes from other lines ({names}) are the true ones, so the error is made in this "
            "line, not carried over from an earlier one")


_DERIV = re.compile(r"\bd (\w+) / d (\w+)")


def plain_message(text: str, symbols: Mapping[str, str] | None = None) -> str:
    """An engine message with Python spellings turned into words and math (``d ce / d Wt2``, `` `@` ``,
    0-based axes)."""
    from gradcheck.repair.latex import symbol

    text = re.sub(r"axes \(([\d, ]+)\) of it give", lambda m: "reordering its indices as ("
                  + ", ".join(str(int(p) + 1) for p in m.group(1).split(",")) + ") gives", text)
    text = re.sub(r"permute its axes to \(([\d, ]+)\)", lambda m: "reorder its indices as ("
                  + ", ".join(str(int(p) + 1) for p in m.group(1).split(",")) + ")", text)
    text = re.sub(r"keeps axis (\d+)", lambda m: f"keeps index {int(m.group(1)) + 1}", text)
    text = re.sub(r"sum over axis (\d+)", lambda m: f"sum over index {int(m.group(1)) + 1}", text)

    s = _DERIV.sub(lambda m: f"$\\partial {symbol(m.group(1), symbols)} / "
                             f"\\partial {symbol(m.group(2), symbols)}$", text)
    s = s.replace("`@`", "the matrix product").replace("`*`", "the elementwise product")
    s = re.sub(r"step '(\w+)' failed", lambda m: f"the step computing ${symbol(m.group(1), symbols)}$ failed", s)
    return s


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


def claims_table(results: Sequence[ClaimSummary], oracles: Sequence[str], info: DocInfo | None = None) -> str:
    symbols = info.symbols if info is not None else {}
    notes = info.fix_notes if info is not None else {}
    head = ["Claim", "Equation (as written)"] + [ORACLE_LABELS.get(o, o) for o in oracles] + \
           ["Verdict", "As expected", "Diagnosis", "Fix"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in results:
        if s.verdict != "correct":
            name = f"[{code(s.name)}](#{anchor(s)})"
        else:
            name = f'<a name="{row_anchor(s)}"></a>{code(s.name)}'
        cells = [name, inline_math(s.latex) or code(s.formula_source)]
        cells += [cell(oracle_cell(s, o)) for o in oracles]
        cells += [verdict_cell(s), expected_cell(s), cell(diagnosis_text(s, results, symbols)),
                  cell(fix_cell(s, results, notes))]
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
        bits.append(textsafe.no_html(short(v.message, 400)))
    return f"- {label}: " + "; ".join(b for b in bits if b)


def details(s: ClaimSummary, results: Sequence[ClaimSummary], figures: Mapping[tuple[str, str], str],
            oracles: Sequence[str], info: DocInfo | None = None) -> str:
    symbols = info.symbols if info is not None else {}
    notes = info.fix_notes if info is not None else {}
    out = [f"#### {text(s.document)}/{text(s.name)}", ""]
    if s.locator:
        out += [f"*Where:* {text(s.locator)}", ""]
    out.append(f"*Claim:* {text(s.kind)} of {code(s.of)} with respect to {code(s.wrt)}"
               + (f" ({text(s.layout)} layout)" if s.kind == "jacobian" or s.layout != "numerator" else "")
               + f"; model: {text(s.model_name)}")
    if s.layout not in ("numerator", "denominator"):
        out += ["", f"*Layout:* {LAYOUT_TEXT.get(s.layout, s.layout)}: declared by the derivation for the "
                "document's own convention, so the true value is compared in that shape"]
    out.append("")
    if s.latex:
        out += ["The document writes:", "", "$$", math_text(s.latex), "$$", ""]
    if s.formula_source:
        out += ["Checked as:", "", "```python", textsafe.terminal_lines(s.formula_source).replace("```", "` ` `"),
                "```", ""]
    exp = f"expected **{s.expect}**" if s.expect else "no expectation recorded"
    match = {True: "as expected", False: "**NOT as expected**", None: ""}[s.expected_ok]
    out.append(f"*Verdict:* **{s.verdict}** ({exp}{'; ' + match if match else ''})"
               + (f". Expected diagnosis: {s.expect_diagnosis}." if s.expect_diagnosis else ""))
    if s.reason:
        out += ["", f"*Why:* {text(s.reason)}"]
    if s.convention:
        out += ["", f"*Convention:* {text(s.convention)}"]
    if s.message:
        out += ["", f"*Message:* {plain_message(textsafe.no_html(s.message), symbols)}"]
    if s.judged_by:
        out += ["", f"*Oracles:* {textsafe.no_html(s.judged_by)}"]
    if s.diagnosis is not None:
        d = s.diagnosis
        line = f"*Diagnosis:* {d.kind}: {plain_message(textsafe.no_html(d.text), symbols)}"
        if getattr(d, "factor", None) is not None:
            line += f" (factor {d.factor:.6g})"
        if d.fix:
            line += f". Fix: {textsafe.no_html(d.fix)}."
        out += ["", line]
    if s.repair is not None:
        r = s.repair
        if r.explanation:
            out += ["", f"*What the repair reveals:* {textsafe.no_html(r.explanation)}"]
        if r.latex:
            out += ["", "*Repaired equation:*", "", "$$", math_text(r.latex), "$$"]
        line = f"*Repair as checked:* {code(r.formula)}"
        if r.edits:
            line += "; edits: " + "; ".join(textsafe.no_html(e) for e in r.edits)
        if r.confirmed_by:
            line += f"; confirmed by {', '.join(ORACLE_LABELS.get(o, o) for o in r.confirmed_by)}"
        out += ["", line + "."]
    for sibling in siblings_of(s, results):
        ok = "correct" if sibling.verdict == "correct" else sibling.verdict
        out += ["", f"*Corrected formula:* claim {claim_link(sibling)} ({ok})"
                + (f": ${math_text(sibling.latex)}$" if sibling.latex else "")
                + (f", checked as {code(sibling.formula_source)}" if sibling.formula_source else "")]
    if s.name in notes:
        out += ["", f"*About the fix:* {link_claims(notes[s.name], results)}"]
    if s.oracles:
        out += ["", "*Oracles:*", ""] + [oracle_line(o, s.oracles[o]) for o in oracles if o in s.oracles]
    if s.point:
        out += ["", "*Point (first of the seeded points):*", ""]
        out += [f"- {code(k)} = {array_text(v)}" for k, v in s.point.items()]
    if s.claimed is not None or s.truth is not None:
        out += ["", "*At that point:*", "", f"- claimed: {array_text(s.claimed)}", f"- true: {array_text(s.truth)}"]
    fig = figures.get((s.document, s.name))
    if fig:
        out += ["", f"![{text(s.document)}/{text(s.name)}: claimed, true and their difference]({fig})"]
    if s.notes:
        out += ["", "*Notes:* " + "; ".join(textsafe.no_html(n) for n in dict.fromkeys(s.notes))]
    return "\n".join(out)


def document_section(info: DocInfo, results: Sequence[ClaimSummary], figures: Mapping[tuple[str, str], str],
                     oracles: Sequence[str]) -> str:
    out = [f"## {text(info.id)} {text(info.title)}", ""]
    if info.source:
        out += [f"Source: {code(info.source)}", ""]
    if info.description:
        out += [textsafe.no_html(info.description.strip()), ""]
    if info.notation:
        out += ["### Notation", "", info.notation.strip(), ""]
    if info.conventions:
        out += ["### Conventions", "", info.conventions.strip(), ""]
    if info.findings:
        out += ["### Findings", ""] + [f"- {textsafe.markdown_text(' '.join(f.split()))}" for f in info.findings] + [""]
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
    out += ["### Claims", "", claims_table(results, oracles, info), ""]
    bad = [s for s in results if s.verdict != "correct"]
    if bad:
        out += ["### Details of the claims that are not correct", ""]
        for s in bad:
            out += [details(s, results, figures, oracles, info), ""]
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
            f"value to {MATCH_RTOL:g} relative.", "",
            "Repairs: the smallest edits of a wrong formula are screened against the true value, and a candidate "
            "is kept only when finite differences and JAX confirm it at every point and at the second size (SymPy's "
            "exact set-up for every candidate would cost more than all the rest of the report).", ""]
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
        "Each claim is an equation or a mathematical statement of a source document: a hand-derived derivative, "
        "or a definition checked by its value. It is checked against three oracles (finite differences, SymPy, "
        "JAX) and gets one verdict: " + ", ".join(VERDICT_ORDER)
        + ". Claims that are not correct get a diagnosis (what the repair reveals, sign flip, transpose, scale "
          "factor, mean vs sum, missing batch sum, which entries differ) and, where possible, a fix in the "
          "document's notation. *As expected* compares each verdict with the one recorded for the document."))
    out += ["", LEGEND, "", "## Summary", "", summary_table(docs), ""]
    for info, results in docs:
        out += [document_section(info, results, figures, oracles), ""]
    if method:
        out += [method_section(oracles)]
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"
    return text
