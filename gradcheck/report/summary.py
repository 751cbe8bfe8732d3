"""Picklable summaries of checked claims (a ``ClaimResult`` holds lambdas; these hold only data).

Workers of the report's process pool send :class:`ClaimSummary` objects back to the parent; the
renderers (markdown, JSON, figures) read only summaries, so they also serve ``gradcheck check``.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

VERDICT_ORDER = ("correct", "incorrect", "shape error", "not evaluable", "oracles disagree")


@dataclass(frozen=True)
class DocInfo:
    """What the report says about a document (the non-callable fields of a Derivation)."""

    id: str
    title: str
    source: str = ""
    description: str = ""
    notation: str = ""
    conventions: str = ""
    findings: tuple[str, ...] = ()
    symbols: Mapping[str, str] = field(default_factory=dict)  # python name -> LaTeX (the document's notation)
    fix_notes: Mapping[str, str] = field(default_factory=dict)  # claim name -> what to know about its fix


@dataclass(frozen=True)
class RepairInfo:
    formula: str
    edits: tuple[str, ...] = ()
    confirmed_by: tuple[str, ...] = ()
    text: str = ""  # a sentence describing the repair, when the repair search gives one
    latex: str = ""  # the repaired equation in the document's notation
    words: tuple[str, ...] = ()  # the edits, Python fragments rendered as $...$ math
    explanation: str = ""  # what the repair reveals


@dataclass(frozen=True)
class ClaimSummary:
    document: str
    index: int
    name: str
    of: str
    wrt: str
    kind: str
    verdict: str
    layout: str = "numerator"
    latex: str = ""
    locator: str = ""
    convention: str = ""
    expect: str | None = None
    expect_diagnosis: str | None = None
    reason: str = ""
    formula_source: str = ""
    sense: str = "minimise"
    model_name: str = ""
    dims: Mapping[str, int] = field(default_factory=dict)
    diagnosis: Any = None  # gradcheck.diagnose.Diagnosis (a plain frozen dataclass)
    oracles: Mapping[str, Any] = field(default_factory=dict)  # name -> gradcheck.verdict.OracleVerdict
    claimed: Any = None  # np.ndarray at the first point
    truth: Any = None
    point: Mapping[str, Any] | None = None
    message: str = ""
    notes: tuple[str, ...] = ()
    repair: RepairInfo | None = None
    expected_ok: bool | None = None
    sign_convention_only: bool = False
    uses: tuple[tuple[str, str, str], ...] = ()  # (name, of, wrt): true derivative values the formula reads
    seconds: float = 0.0  # never rendered (determinism); progress output only
    sizes: str = ""  # the first and the second size the claim was checked at (or why there is no second)
    judged_by: str = ""  # "" when every oracle decided; else "judged by 2 of 3 oracles (SymPy ...: why)"
    figure: bytes | None = field(default=None, repr=False)  # the heatmaps PNG, drawn where the claim was checked

    @property
    def id(self) -> str:
        return f"{self.document}/{self.name}"

    @property
    def convention_only(self) -> bool:
        """Correct for the document's maximised objective and wrong for its negation (a loss)."""
        return self.sign_convention_only


def doc_info(doc: Any) -> DocInfo:
    """A :class:`DocInfo` from a Derivation, a DocInfo, or a mapping with the same keys."""
    if isinstance(doc, DocInfo):
        return doc
    if isinstance(doc, Mapping):
        get = doc.get
    else:
        def get(k, default=None):
            return getattr(doc, k, default)
    return DocInfo(id=str(get("id", "") or ""), title=str(get("title", "") or ""), source=str(get("source", "") or ""),
                   description=str(get("description", "") or ""), notation=str(get("notation", "") or ""),
                   conventions=str(get("conventions", "") or ""), findings=tuple(get("findings", ()) or ()),
                   symbols=dict(get("symbols", None) or {}), fix_notes=dict(get("fix_notes", None) or {}))


def _repair_info(repair: Any) -> RepairInfo | None:
    if repair is None:
        return None
    if isinstance(repair, RepairInfo):
        return repair
    formula = getattr(repair, "formula", None)
    if not formula:
        return None
    return RepairInfo(str(formula), tuple(str(e) for e in getattr(repair, "edits", ()) or ()),
                      tuple(str(o) for o in getattr(repair, "confirmed_by", ()) or ()),
                      str(getattr(repair, "text", "") or ""), str(getattr(repair, "latex", "") or ""),
                      tuple(str(w) for w in getattr(repair, "words", ()) or ()),
                      str(getattr(repair, "explanation", "") or ""))


def summarize(result: Any, index: int = 0, document: str | None = None) -> ClaimSummary:
    """A :class:`ClaimSummary` of a :class:`~gradcheck.check.ClaimResult` (a summary is returned as is)."""
    if isinstance(result, ClaimSummary):
        return result
    claim, model = result.claim, result.model
    try:
        of = claim.target(model)
    except Exception:  # noqa: BLE001
        of = claim.of or ""
    return ClaimSummary(
        document=document if document is not None else (result.document or ""), index=index, name=claim.name,
        of=of, wrt=claim.wrt, kind=claim.kind, verdict=result.verdict, layout=claim.layout, latex=claim.latex,
        locator=claim.locator, convention=claim.convention, expect=claim.expect,
        expect_diagnosis=claim.expect_diagnosis, reason=claim.reason, formula_source=formula_text(claim),
        sense=getattr(model, "sense", "minimise"), model_name=getattr(model, "name", ""),
        dims=dict(getattr(model, "dims", {}) or {}), diagnosis=result.diagnosis, oracles=dict(result.oracles),
        claimed=result.claimed, truth=result.truth,
        point=dict(result.point) if result.point is not None else None, message=result.message,
        notes=tuple(result.notes), repair=_repair_info(getattr(result, "repair", None)),
        expected_ok=result.expected_ok, sign_convention_only=bool(getattr(result, "convention_only", False)),
        uses=_uses_read(claim), seconds=result.seconds, sizes=str(getattr(result, "sizes", "") or ""),
        judged_by=str(getattr(result, "judged_by", "") or ""))


def _uses_read(claim: Any) -> tuple[tuple[str, str, str], ...]:
    try:
        reads = set(claim.reads)
    except Exception:  # noqa: BLE001 - a formula whose parameters cannot be read uses nothing we can name
        return ()
    return tuple((n, str(o), str(w)) for n, (o, w) in dict(getattr(claim, "uses", {}) or {}).items() if n in reads)


def failed_summary(claim: Any, model: Any, document: str, index: int, message: str) -> ClaimSummary:
    """A claim whose check itself raised: reported as not evaluable, never dropped."""
    try:
        of = claim.target(model)
    except Exception:  # noqa: BLE001
        of = getattr(claim, "of", None) or ""
    expect = getattr(claim, "expect", None)
    return ClaimSummary(
        document=document, index=index, name=claim.name, of=of, wrt=claim.wrt, kind=claim.kind,
        verdict="not evaluable", layout=claim.layout, latex=claim.latex, locator=claim.locator,
        convention=claim.convention, expect=expect, expect_diagnosis=claim.expect_diagnosis, reason=claim.reason,
        formula_source=formula_text(claim), sense=getattr(model, "sense", "minimise"),
        model_name=getattr(model, "name", ""), dims=dict(getattr(model, "dims", {}) or {}), message=message,
        expected_ok=None if expect is None else expect == "not evaluable")


# ------------------------------------------------------------------------------------------- formula text
def formula_text(claim: Any) -> str:
    """The formula as written: ``claim.source`` when set, else the lambda's expression read with ``ast``."""
    if getattr(claim, "source", None):
        return str(claim.source).strip()
    return function_text(getattr(claim, "formula", None))


def function_text(fn: Callable | None) -> str:
    """``lambda a, b: expr`` -> ``expr``; a ``def`` with a single ``return expr`` -> ``expr``; else its source."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return repr(fn) if fn is not None else ""
    from gradcheck.source_index import file_of, functions_at, parsed, segment

    filename = file_of(fn)
    tree, text = parsed(filename)
    params = list(code.co_varnames[:code.co_argcount])
    if tree is not None:
        candidates = []
        for node in functions_at(filename, code.co_firstlineno):
            if not isinstance(node, (ast.Lambda, ast.FunctionDef)):
                continue
            first = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
            if first == code.co_firstlineno:
                if [a.arg for a in node.args.args] == params:
                    if isinstance(node, ast.FunctionDef) and node.name != code.co_name:
                        continue
                    candidates.append(node)
        if len(candidates) >= 1:
            node = candidates[0]
            if isinstance(node, ast.Lambda):
                seg = segment(text, node.body)
                if seg:
                    return " ".join(seg.split())
            else:
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                    seg = segment(text, body[0].value)
                    if seg:
                        return " ".join(seg.split())
                seg = segment(text, node)
                if seg:
                    return textwrap.dedent(seg).strip()
    try:
        return textwrap.dedent(inspect.getsource(fn)).strip()
    except (OSError, TypeError):
        return getattr(fn, "__qualname__", repr(fn))


REPAIRED_SUFFIX = "_repaired"


def repaired_siblings(name: str, names: Sequence[str]) -> tuple[str, ...]:
    """The ``..._repaired`` claims that correct claim ``name``: ``x_repaired``, ``x_<more>_repaired``, or
    ``<stem>_repaired`` where ``name`` is ``<stem>_<reading>`` (``dH_db3_1_batch_as_written`` ->
    ``dH_db3_1_batch_repaired``, ``dz3_1_dh2_1_middle`` -> ``dz3_1_dh2_1_repaired``)."""
    if name.endswith(REPAIRED_SUFFIX):
        return ()
    out = []
    for other in names:
        if other == name or not other.endswith(REPAIRED_SUFFIX):
            continue
        stem = other[: -len(REPAIRED_SUFFIX)]
        if stem == name or other.startswith(name + "_") or name.startswith(stem + "_"):
            out.append(other)
    return tuple(out)


def repaired_claims(name: str, names: Sequence[str]) -> tuple[str, ...]:
    """The claims that a ``..._repaired`` claim corrects (the reverse of :func:`repaired_siblings`)."""
    if not name.endswith(REPAIRED_SUFFIX):
        return ()
    return tuple(n for n in names if name in repaired_siblings(n, names))


def counts(results: Sequence[ClaimSummary]) -> dict[str, int]:
    """The summary-table numbers of one document."""
    out = {"claims": len(results)}
    for v in VERDICT_ORDER:
        out[v.replace(" ", "_")] = sum(r.verdict == v for r in results)
    out["convention_only"] = sum(r.convention_only for r in results)
    out["with_expectation"] = sum(r.expected_ok is not None for r in results)
    out["as_expected"] = sum(r.expected_ok is True for r in results)
    out["unexpected"] = sum(r.expected_ok is False for r in results)
    return out
