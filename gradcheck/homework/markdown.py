"""``gradcheck check derivation.md``: a derivation written in markdown and LaTeX.

The model comes from a fenced ```` ```toml ```` block or TOML front matter (``+++ ... +++``): dims,
data, params, forward and ``[notation]``, exactly as in a homework file. Every display equation
(``$$ ... $$`` or ``\\[ ... \\]``) is read with :mod:`gradcheck.latex`:

* a derivative on the left: a claim; a chain ``A = B = C`` is checked step by step, and the first
  wrong step is named, with whether the later steps repeat or repair its error;
* ``\\delta^3 \\equiv \\frac{\\partial C}{\\partial z^3}``: a name for a derivative, usable below;
* a model step on the left (``z^{[1]} = W^{[1]} x + b^{[1]}``): a definition, compared with the
  model's step at seeded points;
* anything else is listed as not checked.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck import textsafe
from gradcheck.expr import FUNCTIONS, parse
from gradcheck.homework.load import HomeworkError, loads
from gradcheck.latex.claims import context_factory, equation_claims
from gradcheck.latex.equations import read_equation
from gradcheck.latex.grammar import LatexError, Relation
from gradcheck.latex.grammar import parse as parse_latex
from gradcheck.latex.notation import check_notation, notation_from_table
from gradcheck.latex.render import formula_to_latex
from gradcheck.model import ModelError
from gradcheck.oracles import repair_oracles
from gradcheck.points import draw_points

DEFINITION_RTOL = 1e-9  # a definition is the same computation as the step: equal up to rounding
EXIT_OK, EXIT_WRONG, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class DisplayEquation:
    line: int  # 1-based line of the markdown file where it starts
    latex: str
    rows: tuple = ()  # (offset in latex, line) of each continuation row of an aligned block

    def line_at(self, offset: int) -> int:
        """The markdown line of the character at ``offset`` of :attr:`latex`."""
        return max([(o, n) for o, n in self.rows if o <= offset], default=(0, self.line))[1]


@dataclass
class EquationReport:
    line: int
    latex: str
    kind: str  # claim | declaration | definition | unreadable | not checked
    results: list = field(default_factory=list)  # ClaimResult per step (claims)
    steps: list = field(default_factory=list)  # the Step objects of the equation
    verdicts: list = field(default_factory=list)  # definitions: (verdict, message) per step
    message: str = ""
    chain: str = ""  # the first wrong step and what the later steps do
    spelled: dict = field(default_factory=dict)
    step_lines: list = field(default_factory=list)  # the markdown line of each step (aligned rows)


# ---------------------------------------------------------------------------------------------- reading
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([A-Za-z0-9_+-]*)")


def split_markdown(text: str) -> tuple[str, list[DisplayEquation]]:
    """The TOML (front matter or first ```toml block) and the display equations outside code."""
    lines = text.splitlines()
    toml_lines: list[str] | None = None
    body_start = 0
    if lines and lines[0].strip() == "+++":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
        if end is None:
            raise HomeworkError("the TOML front matter opened by +++ on line 1 is never closed by +++")
        toml_lines, body_start = lines[1:end], end + 1
    prose: list[tuple[int, str]] = []
    fence = None
    for i in range(body_start, len(lines)):
        m = _FENCE.match(lines[i])
        if fence is None and m:
            fence = (m.group(2)[0], len(m.group(2)), m.group(3).lower(), [])
            continue
        if fence is not None:
            if lines[i].strip().startswith(fence[0] * fence[1]) and not lines[i].strip().strip(fence[0]):
                if fence[2] == "toml" and toml_lines is None:
                    toml_lines = fence[3]
                fence = None
            else:
                fence[3].append(lines[i])
            continue
        prose.append((i + 1, lines[i]))
    if toml_lines is None:
        raise HomeworkError("no model: add a ```toml block (or +++ TOML front matter) with dims, data, params "
                            "and forward, as in a homework file")
    return "\n".join(toml_lines), display_equations(prose)


_DISPLAY = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(\\begin\{(align|gather|equation)\*?\}.+?\\end\{\4\*?\})",
                      flags=re.S)
_ENVIRONMENT = re.compile(r"\\(begin|end)\{(aligned|align|alignat|gathered|gather|split|equation)\*?\}(\{\d+\})?")


def display_equations(prose: list[tuple[int, str]]) -> list[DisplayEquation]:
    """``$$ ... $$``, ``\\[ ... \\]`` and ``\\begin{align} ... \\end{align}`` blocks, with the line each
    equation starts on. In an ``aligned`` block, a row that starts with ``=`` continues the chain of the
    row above it (``&= ...``); any other row is an equation of its own."""
    text = "\n".join(line for _, line in prose)
    starts = [n for n, _ in prose]
    offsets, pos = [], 0
    for _, line in prose:
        offsets.append(pos)
        pos += len(line) + 1

    def line_of(offset: int) -> int:
        return starts[max(i for i, off in enumerate(offsets) if off <= offset)]

    out: list[DisplayEquation] = []
    for m in _DISPLAY.finditer(text):
        group = next(i for i in (1, 2, 3) if m.group(i) is not None)
        body_start = m.start(group)
        body = re.sub(r"\\(label|tag|nonumber|notag)(\{[^}]*\})?", lambda x: " " * len(x.group(0)), m.group(group))
        aligned = bool(_ENVIRONMENT.search(body))
        body = _ENVIRONMENT.sub(lambda x: " " * len(x.group(0)), body)
        rows = _rows(body) if aligned else [(0, body)]
        for offset, row in rows:
            cleaned = _drop_alignment(row) if aligned else row
            tokens = [(t.group(), line_of(body_start + offset + t.start())) for t in re.finditer(r"\S+", cleaned)]
            latex = " ".join(tok for tok, _ in tokens).rstrip(" .,;")
            if not latex:
                continue
            marks, at = [], 0
            for tok, line in tokens:  # where each markdown line starts in the joined LaTeX
                if not marks or marks[-1][1] != line:
                    marks.append((at, line))
                at += len(tok) + 1
            if latex.startswith("=") and out and len(rows) > 1:
                prev = out[-1]
                shift = len(prev.latex) + 1
                out[-1] = DisplayEquation(prev.line, prev.latex + " " + latex,
                                          prev.rows + tuple((o + shift, n) for o, n in marks))
            else:
                out.append(DisplayEquation(marks[0][1], latex, tuple(marks)))
    return out


def _drop_alignment(row: str) -> str:
    """A row without its alignment points ``&`` (those inside a matrix separate entries and stay)."""
    out, depth, i = [], 0, 0
    while i < len(row):
        if row.startswith("\\begin", i):
            depth += 1
        elif row.startswith("\\end", i):
            depth -= 1
        elif row[i] == "&" and depth == 0 and (i == 0 or row[i - 1] != "\\"):
            out.append(" ")
            i += 1
            continue
        out.append(row[i])
        i += 1
    return "".join(out)


def _rows(body: str) -> list[tuple[int, str]]:
    """The rows of an aligned block: split at ``\\\\`` outside any matrix, with their offsets."""
    rows, start, depth, i = [], 0, 0, 0
    while i < len(body):
        if body.startswith("\\begin", i):
            depth += 1
        elif body.startswith("\\end", i):
            depth -= 1
        elif body.startswith("\\\\", i) and depth == 0:
            rows.append((start, body[start:i]))
            start = i + 2
            i += 2
            continue
        i += 1
    rows.append((start, body[start:]))
    return rows


# ---------------------------------------------------------------------------------------------- checking
def check_markdown(path: str | Path, *, check_kwargs: dict | None = None, repair_budget: float = 0.0,
                   progress=None, check=None, prepare=True) -> tuple[Any, list[EquationReport]]:
    """Read and check a markdown derivation; returns (derivation, one report per display equation).

    ``check(derivation, claim, **kwargs)`` judges one claim (default :func:`gradcheck.check.check_claim`;
    the command passes one that runs under the claim's time budget). ``prepare(derivation, claims,
    check_kwargs)`` is called once with every claim before any is judged (default: hand them all to
    :func:`gradcheck.check.prepare`; False: nothing)."""
    from gradcheck.check import check_claim

    check_claim = check or check_claim

    from gradcheck.homework.validate import read_text

    path = Path(path)
    text = read_text(path)  # regular files of a sane size only (FileProblem names the file)
    toml_text, equations = split_markdown(text)
    derivation = loads(toml_text, name=str(path))
    import tomllib

    try:
        notation = notation_from_table(tomllib.loads(toml_text).get("notation", {}), FUNCTIONS,
                                       f"{path}: [notation]")
    except LatexError as exc:
        raise HomeworkError(str(exc)) from None
    model = derivation.model
    derivatives: dict[str, tuple[str, str]] = {c.name: (c.target(model), c.wrt) for c in derivation.claims}
    try:
        check_notation(notation, set(model.names) | set(model.dims) | set(model.constants) | set(derivatives),
                       f"{path}: [notation]")
    except LatexError as exc:
        raise HomeworkError(str(exc)) from None
    # Every equation is read first, then all claims are handed to the oracles together (SymPy works on
    # them in one worker with shared set-ups while finite differences and JAX check, one JAX program
    # per model), then each claim is judged in document order.
    read = [_read_equation(path, eq, model, notation, derivatives) for eq in equations]
    kwargs = dict(check_kwargs or {})
    claims = [c for _, cs in read for c in cs]
    if claims and prepare:
        prepare = _prepare_all if prepare is True else prepare
        try:
            prepare(derivation, claims, kwargs)
        except Exception:  # noqa: BLE001 - each claim is then checked (and its failure reported) on its own
            pass
    reports = []
    for rep, eq_claims in read:
        _check_claims(rep, eq_claims, derivation, check_claim, kwargs, repair_budget)
        reports.append(rep)
        if progress is not None:
            progress(rep)
    return derivation, reports


def _prepare_all(derivation, claims, kwargs) -> None:
    from gradcheck.check import prepare
    from gradcheck.oracles import ORACLES

    prepare(derivation, claims, oracles=kwargs.get("oracles", ORACLES), seed=kwargs.get("seed", 0),
            options=kwargs.get("options"))


def _check_claims(rep, claims, derivation, check_claim, kwargs, budget) -> None:
    for claim in claims:
        r = check_claim(derivation, claim, **kwargs)
        if budget > 0 and r.verdict in ("incorrect", "shape error"):
            from gradcheck.homework.cli import _repair

            r = _repair(derivation, r, repair_oracles(kwargs.get("oracles")), budget)
        rep.results.append(r)
    if claims:
        rep.chain = chain_summary(rep.results)


def _read_equation(path, eq, model, notation, derivatives):
    """(the equation's report, the claims it makes): nothing is checked yet."""
    where = f"{path.name}, line {eq.line}"
    make = context_factory(model, notation, derivatives)
    try:
        if not isinstance(parse_latex(eq.latex, where=where), Relation):
            return EquationReport(eq.line, eq.latex, "not checked", message="an expression, not an equation"), []
        read = read_equation(eq.latex, make, where=where)
    except LatexError as exc:
        return EquationReport(eq.line, eq.latex, "unreadable", message=str(exc)), []
    rep = EquationReport(eq.line, eq.latex, read.kind, steps=read.steps, spelled=read.spelled,
                         step_lines=[eq.line_at(st.start) for st in read.steps])
    derivatives.update(read.declared)
    if read.kind == "definition":
        rep.verdicts = [_check_definition(model, read.target, s) for s in read.steps]
        return rep, []
    if read.kind not in ("claim", "declaration") or not read.steps:
        if read.kind == "declaration":
            name, (of, wrt) = next(iter(read.declared.items()))
            rep.message = f"declares {name} = d {of} / d {wrt}"
        else:
            rep.kind, rep.message = "not checked", "no derivative and no model step on the left side"
        return rep, []
    base = _claim_base(read, model, eq.line)
    names = [base] if len(read.steps) == 1 else [f"{base}.{k}" for k in range(1, len(read.steps) + 1)]
    claims = equation_claims(read, base, model, derivatives, locator=f"{path.name}, line {eq.line}",
                             where=where, names=names)
    return rep, list(claims)


def _claim_base(read, model, line: int) -> str:
    name = f"d{read.wrt}" if read.of == model.objective else f"d{read.of}_d{read.wrt}"
    return f"{name}@L{line}"


def _check_definition(model, step_name: str, step) -> tuple[str, str]:
    """(verdict, message) of one right-hand side of a definition, against the model's step."""

    if step.error is not None:
        return "not evaluable", str(step.error)
    if step.uses:
        return "not evaluable", "a definition cannot use derivatives"
    expr = parse(step.formula)
    worst = 0.0
    for point in draw_points(model, 2, seed=0):
        values = model.forward(point.values)
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(expr.evaluate(values), dtype=float)
        except Exception as exc:  # noqa: BLE001 - a shape clash is this definition's finding
            return "shape error", f"cannot be evaluated: {exc}"
        want = np.asarray(values[step_name], dtype=float)
        if got.shape != want.shape:
            return "shape error", f"gives shape {got.shape}, but the model's {step_name} has shape {want.shape}"
        scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1.0)
        worst = max(worst, float(np.max(np.abs(got - want))) / scale if want.size else 0.0)
    if worst <= DEFINITION_RTOL:
        return "agrees", f"equals the model's step {step_name} (relative difference {worst:.1e})"
    return "disagrees", (f"differs from the model's step {step_name} = {_source_of(model, step_name)} "
                         f"(largest relative difference {worst:.2g})")


def _source_of(model, name: str) -> str:
    step = next(s for s in model.step_list if s.name == name)
    return getattr(step.fn, "source", name)


def chain_summary(results: list) -> str:
    """The first wrong step of a chain and whether each later step repeats or repairs its error."""
    if len(results) < 2:
        return ""
    wrong = [k for k, r in enumerate(results) if r.verdict != "correct"]
    if not wrong:
        return f"all {len(results)} steps are correct"
    first = wrong[0]
    parts = [f"first wrong step: step {first + 1} ({results[first].verdict})"]
    if first > 0:
        parts[0] += f"; steps 1-{first} before it are correct" if first > 1 else "; step 1 before it is correct"
    for k in range(first + 1, len(results)):
        r = results[k]
        if r.verdict == "correct":
            parts.append(f"step {k + 1} repairs it (correct again)")
        elif _same_value(r, results[first]):
            parts.append(f"step {k + 1} repeats it (same value as step {first + 1})")
        else:
            parts.append(f"step {k + 1} is wrong differently ({r.verdict})")
    return "; ".join(parts)


def _same_value(a, b) -> bool:
    if a.claimed is None or b.claimed is None:
        return a.verdict == b.verdict and a.verdict in ("shape error", "not evaluable") and a.message == b.message
    x, y = np.asarray(a.claimed), np.asarray(b.claimed)
    if x.shape != y.shape:
        return False
    scale = max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-300)
    return float(np.max(np.abs(x - y))) <= 1e-9 * scale


# ---------------------------------------------------------------------------------------------- rendering
def formula_latex(formula: str, spelled: dict, sample: dict | None = None) -> str:
    """A formula in the LaTeX notation of the document (names as the document spelled them)."""
    return formula_to_latex(formula, spelled, sample)


def _fix(r, spelled) -> tuple[str | None, str | None]:
    """The repair of a wrong step, as a formula and in the document's LaTeX."""
    repair = r.repair
    formula = getattr(repair, "formula", None) if repair is not None else None
    if not formula:
        return None, None
    sample = dict(r.point or {})
    try:
        sample = r.model.forward(sample)
    except Exception:  # noqa: BLE001 - shapes are only used to choose juxtaposition or \odot
        pass
    for name, (of, wrt) in r.claim.uses.items():
        if of in sample and wrt in sample:
            sample[name] = np.zeros(np.shape(sample[of]) + np.shape(sample[wrt]))
    try:
        return formula, formula_latex(formula, spelled, sample)
    except (SyntaxError, ValueError):
        return formula, None


def step_json(step, r, spelled, line: int) -> dict:
    d = r.diagnosis
    fix, fix_latex = _fix(r, spelled)
    return {"claim": r.claim.name, "line": line, "latex": step.latex, "formula": step.formula, "verdict": r.verdict,
            "diagnosis": None if d is None else {"kind": d.kind, "text": d.text, "fix": d.fix},
            "repair": fix, "repair_latex": fix_latex, "message": r.message if r.verdict != "correct" else "",
            "uses": {k: list(v) for k, v in r.claim.uses.items()}}


def report_json(derivation, reports: list[EquationReport]) -> dict:
    out = []
    for rep in reports:
        item = {"line": rep.line, "latex": rep.latex, "kind": rep.kind, "message": rep.message}
        if rep.results:
            lines = rep.step_lines or [rep.line] * len(rep.steps)
            item["steps"] = [step_json(s, r, rep.spelled, n) for s, r, n in zip(rep.steps, rep.results, lines)]
            item["chain"] = rep.chain
        if rep.verdicts:
            item["steps"] = [{"latex": s.latex, "formula": s.formula, "verdict": v, "message": m}
                             for s, (v, m) in zip(rep.steps, rep.verdicts)]
        out.append(item)
    return {"document": derivation.id, "title": derivation.title, "source": derivation.source, "equations": out}


def _verdict_word(v: str) -> str:
    return v.upper()


def terminal_lines(rep: EquationReport) -> list[str]:
    lines = [f"line {rep.line}: {rep.latex}"]
    if rep.kind == "unreadable":
        lines += [("  CANNOT READ: " if i == 0 else "  ") + text for i, text in enumerate(rep.message.splitlines())]
        return lines
    if rep.kind in ("not checked",) or (rep.kind == "declaration" and not rep.results):
        lines.append(f"  {rep.kind.upper() if rep.kind == 'not checked' else 'DECLARATION'}: {rep.message}")
        return lines
    if rep.kind == "definition":
        for k, (s, (v, m)) in enumerate(zip(rep.steps, rep.verdicts), start=1):
            label = f"definition{' step ' + str(k) if len(rep.steps) > 1 else ''}"
            lines.append(f"  {label}: {_verdict_word(v)}: {s.latex}")
            if v != "agrees":
                lines.append(f"      {m}")
        return lines
    many = len(rep.results) > 1
    for k, (s, r) in enumerate(zip(rep.steps, rep.results), start=1):
        at = rep.step_lines[k - 1] if len(rep.step_lines) >= k else rep.line
        head = (f"  step {k}{f' (line {at})' if at != rep.line else ''}: ") if many else "  "
        lines.append(f"{head}{_verdict_word(r.verdict):<14} {s.latex}")
        if r.verdict == "correct":
            continue
        if r.diagnosis is not None:
            lines.append(f"      {r.diagnosis.kind}: {r.diagnosis.text}"
                         + (f"; fix: {r.diagnosis.fix}" if r.diagnosis.fix else ""))
        elif r.message:
            lines += ["      " + text for text in r.message.splitlines()]
        fix, fix_latex = _fix(r, rep.spelled)
        if fix:
            lines.append(f"      write instead: {fix_latex or fix}")
    if rep.chain:
        lines.append(f"  chain: {rep.chain}")
    return lines


def report_markdown(derivation, reports: list[EquationReport]) -> str:
    out = [f"# {textsafe.markdown_text(derivation.title)}", "",
           f"Checked by {textsafe.code('gradcheck check ' + str(derivation.source))}.", "",
           "| line | equation | step | verdict | diagnosis / message |", "|---:|---|---:|---|---|"]

    def cell(s: str) -> str:  # file-provided text: no HTML tag, no link can form
        return textsafe.markdown_text(s).replace("|", "\\|").replace("\n", " ")

    def math_cell(latex: str) -> str:
        return textsafe.math(latex).replace("|", "\\|").replace("\n", " ")

    for rep in reports:
        eq = f"${math_cell(rep.latex)}$"
        if rep.results:
            for k, (s, r) in enumerate(zip(rep.steps, rep.results), start=1):
                d = r.diagnosis
                fix, fix_latex = _fix(r, rep.spelled)
                msg = "" if r.verdict == "correct" else (f"{d.kind}: {d.text}" if d else r.message)
                fix_cell = f"; write instead ${math_cell(fix_latex)}$" if fix_latex else ""
                out.append(f"| {rep.line} | {eq if k == 1 else ''} | {k} | {r.verdict} | {cell(msg)}{fix_cell} |")
            if rep.chain:
                out.append(f"| | | | chain | {cell(rep.chain)} |")
        elif rep.verdicts:
            for k, (s, (v, m)) in enumerate(zip(rep.steps, rep.verdicts), start=1):
                out.append(f"| {rep.line} | {eq if k == 1 else ''} | {k} | definition {v} | "
                           f"{cell('' if v == 'agrees' else m)} |")
        else:
            out.append(f"| {rep.line} | {eq} | | {rep.kind} | {cell(rep.message)} |")
    return "\n".join(out) + "\n"


def _apply_file_settings(args) -> None:
    """The TOML block's ``[check]`` table (:mod:`gradcheck.tolerances`) where no flag was given."""
    import tomllib

    from gradcheck.tolerances import file_settings

    from gradcheck.homework.validate import read_text

    text = read_text(args.file)
    toml_text, _ = split_markdown(text)
    try:
        doc = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError:
        return  # check_markdown reports the TOML error with its place
    from gradcheck.homework.cli import apply_file_settings

    apply_file_settings(args, file_settings(doc, Path(args.file).name))


def run_markdown(args, file_end: float | None = None) -> int:
    """The ``gradcheck check FILE.md`` command: the same options, limits and budgets as for a TOML file
    (:mod:`gradcheck.homework.cli`, :mod:`gradcheck.limits`); the flags are already validated."""
    import math

    from gradcheck import limits
    from gradcheck.homework.cli import (_check_within_budget, _import_oracles, _left, cached_judgement, check_options,
                                        repaired, results_cache, reused_text, say)

    file_end = math.inf if file_end is None else file_end
    out, err = sys.stdout, sys.stderr
    try:
        _apply_file_settings(args)
    except (ModelError, ValueError) as exc:  # HomeworkError, SettingsError, FileProblem
        say(f"error: {exc}", err)
        return EXIT_BAD_INPUT
    kwargs, problem = check_options(args)
    if problem:
        say(f"error: {problem}", err)
        return EXIT_BAD_INPUT
    oracles = kwargs["oracles"]
    quiet, as_json = getattr(args, "quiet", False), getattr(args, "json", False)
    talk = err if as_json else out
    budget = 0.0 if getattr(args, "no_repair", False) else getattr(args, "repair_budget", 5.0)
    claim_seconds, file_seconds = getattr(args, "time_per_claim", None), getattr(args, "time_per_file", None)
    t0 = time.perf_counter()
    cache = results_cache(args, "check-markdown", args.file)
    place = itertools.count(1)  # claims are judged in the order they are read, each once: a claim's key is
    # its place in the run and its text

    def show(rep):
        if not quiet:
            say("\n".join(terminal_lines(rep)), talk)

    def judge(derivation, claim, kw):
        from gradcheck.check import check_claim

        _import_oracles(oracles)  # at the first claim not kept from an earlier run; not charged to its budget
        r = _check_within_budget(derivation, claim, check_claim, kw, claim_seconds, _left(file_end), file_seconds)
        left = _left(file_end)
        return repaired(derivation, r, repair_oracles(oracles), budget if left is None else min(budget, left),
                        kw.get("options"))

    def key(n, claim):
        return (n, claim.name, claim.source)

    def prepare_unkept(derivation, claims, kw):
        from gradcheck.check import prepare

        unkept = [c for n, c in enumerate(claims, 1) if cache.get(key(n, c)) is None]
        if unkept:
            _import_oracles(oracles, heavy=False)
            prepare(derivation, unkept, oracles=oracles, seed=kw.get("seed", 0), options=kw.get("options"))
            _import_oracles(oracles)

    def budgeted_check(derivation, claim, **kw):
        return cached_judgement(cache, key(next(place), claim), derivation, claim,
                                lambda: judge(derivation, claim, kw))

    try:
        with limits.deadline(_left(file_end), "the file"):
            derivation, reports = check_markdown(args.file, check_kwargs=kwargs, repair_budget=0.0, progress=show,
                                                 check=budgeted_check, prepare=prepare_unkept)
    except ModelError as exc:
        say(f"error: {exc}", err)
        return EXIT_BAD_INPUT
    except limits.BudgetExceeded as exc:
        say(f"error: {args.file}: {exc}; raise it with --time-per-file", err)
        return EXIT_BAD_INPUT
    results = [r for rep in reports for r in rep.results]
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    bad_defs = sum(v != "agrees" for rep in reports for v, _ in rep.verdicts)
    unreadable = sum(rep.kind == "unreadable" for rep in reports)
    ok = all(r.verdict == "correct" for r in results) and not bad_defs and not unreadable
    summary = ", ".join(f"{n} {v}" for v, n in counts.items()) or "none"
    say(f"{len(reports)} equations, {len(results)} claim steps: {summary}; {bad_defs} definition(s) disagree; "
        f"{unreadable} unreadable ({time.perf_counter() - t0:.1f} s{reused_text(cache)}) -> {'OK' if ok else 'PROBLEMS'}",
        talk)
    if as_json:
        json.dump(report_json(derivation, reports), out, indent=2, default=str)
        out.write("\n")
    if getattr(args, "report", None):
        from gradcheck.outputs import write_together

        write_together({args.report: report_markdown(derivation, reports)})
        say(f"report written to {args.report}", talk)
    return EXIT_OK if ok else EXIT_WRONG
