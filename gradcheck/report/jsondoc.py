"""report.json: the report for machines, and its JSON Schema (draft 2020-12, also in report.schema.json).

Floats are JSON-safe (NaN and infinities become null) and rounded to 6 significant digits, so the
file is byte-identical across runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from gradcheck.verdict import ERROR_DIGITS, noise_floor, stable_errors
from gradcheck.report.summary import VERDICT_ORDER, ClaimSummary, DocInfo, counts, doc_info, summarize

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
ORACLE_NAMES = ("finite_difference", "symbolic", "autodiff")

_num = {"type": ["number", "null"]}
_err = {"type": ["number", "string", "null"],
        "description": "an error with 3 significant digits, or \"< floor\" below the oracle's noise floor "
                       "(rounding noise, which differs between machines, is never written as digits)"}
_str_or_null = {"type": ["string", "null"]}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/gradcheck/gradcheck/report.schema.json",
    "title": "gradcheck report",
    "description": "Verdicts of hand-derived derivative formulas (claims) checked by finite differences, "
                   "SymPy and JAX.",
    "type": "object",
    "required": ["gradcheck_version", "oracles", "seed", "n_points", "documents"],
    "additionalProperties": False,
    "properties": {
        "gradcheck_version": {"type": "string"},
        "oracles": {"type": "array", "items": {"enum": list(ORACLE_NAMES)}, "uniqueItems": True},
        "seed": {"type": "integer"},
        "n_points": {"type": "integer", "minimum": 1},
        "documents": {"type": "array", "items": {"$ref": "#/$defs/document"}},
    },
    "$defs": {
        "verdict": {"enum": list(VERDICT_ORDER)},
        "summary": {
            "type": "object",
            "description": "Counts per verdict; convention_only: correct only under the document's sign convention "
                           "(correct for the maximised objective, wrong for its negation); as_expected / with_expectation: claims "
                           "whose "
                           "verdict (and diagnosis) match the recorded expectation / claims with an expectation.",
            "required": ["claims", "correct", "incorrect", "shape_error", "not_evaluable", "oracles_disagree",
                         "convention_only", "with_expectation", "as_expected", "unexpected"],
            "additionalProperties": False,
            "properties": {k: {"type": "integer", "minimum": 0} for k in (
                "claims", "correct", "incorrect", "shape_error", "not_evaluable", "oracles_disagree",
                "convention_only", "with_expectation", "as_expected", "unexpected")},
        },
        "oracle": {
            "type": "object",
            "required": ["status", "max_abs_err", "max_rel_err", "method", "dims"],
            "additionalProperties": False,
            "properties": {
                "status": {"enum": ["pass", "fail", "non-smooth", "shape", "error", "skipped"]},
                "max_abs_err": _err,
                "max_rel_err": _err,
                "tolerance": _num,
                "error_estimate": _err,
                "method": {"type": "string"},
                "detail": {"type": "string", "description": "symbolic: proved / numeric (50 digits) / disproved"},
                "message": {"type": "string"},
                "dims": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
            },
        },
        "diagnosis": {
            "type": ["object", "null"],
            "required": ["kind", "text"],
            "additionalProperties": False,
            "properties": {"kind": {"type": "string"}, "text": {"type": "string"}, "factor": _num},
        },
        "repair": {
            "type": ["object", "null"],
            "required": ["formula", "edits", "confirmed_by"],
            "additionalProperties": False,
            "properties": {
                "formula": {"type": "string"},
                "edits": {"type": "array", "items": {"type": "string"}},
                "confirmed_by": {"type": "array", "items": {"type": "string"}},
                "text": {"type": "string"},
                "latex": {"type": "string", "description": "the repaired equation, LaTeX in the document's notation"},
                "words": {"type": "array", "items": {"type": "string"},
                          "description": "the edits in words, math as $...$ LaTeX"},
                "explanation": {"type": "string", "description": "what the repair reveals"},
            },
        },
        "claim": {
            "type": "object",
            "required": ["id", "document", "locator", "equation", "of", "wrt", "kind", "expected", "verdict",
                         "diagnosis", "fix", "repair", "oracles"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "description": "document id / claim name"},
                "document": {"type": "string"},
                "name": {"type": "string"},
                "locator": {"type": "string", "description": "where the equation is in the source document"},
                "equation": {"type": "string", "description": "LaTeX, as the document writes it"},
                "formula": {"type": "string", "description": "the formula as checked (Python)"},
                "of": {"type": "string"},
                "wrt": {"type": "string"},
                "kind": {"enum": ["gradient", "jacobian", "elementwise", "recursion", "update", "value"]},
                "layout": {"enum": ["numerator", "denominator", "squeezed", "row", "column", "flat"],
                           "description": "numerator/denominator: the quantities' own shapes; the others a "
                                          "document's declared convention (see gradcheck.claim.LAYOUTS)"},
                "convention": {"type": "string"},
                "sense": {"enum": ["minimise", "maximise"]},
                "expected": {"anyOf": [{"$ref": "#/$defs/verdict"}, {"type": "null"}]},
                "expected_diagnosis": _str_or_null,
                "expected_ok": {"type": ["boolean", "null"]},
                "verdict": {"$ref": "#/$defs/verdict"},
                "message": {"type": "string"},
                "diagnosis": {"$ref": "#/$defs/diagnosis"},
                "fix": _str_or_null,
                "repair": {"$ref": "#/$defs/repair"},
                "figure": _str_or_null,
                "explanation": {"type": "string", "description": "what is wrong, in the document's terms "
                                                                "(the report's Diagnosis column)"},
                "fix_latex": {"type": "array", "items": {"type": "string"},
                              "description": "the corrected equations (LaTeX, document notation): the repair found, "
                                             "then the derivation's corrected claims"},
                "fix_note": _str_or_null,
                "repaired_by": {"type": "array", "items": {"type": "string"},
                                "description": "ids of the derivation's claims that correct this one"},
                "repairs": {"type": "array", "items": {"type": "string"},
                            "description": "ids of the claims this corrected claim corrects"},
                "sign_convention_only": {"type": "boolean"},
                "sizes": {"type": "string", "description": "the dims (and constants) the claim was checked at: "
                          "the first size, and the second size (or why there is none)"},
                "judged_by": {"type": "string", "description": "empty when every oracle decided; else which "
                              "oracles judged the claim and why the others did not"},
                "oracles": {
                    "type": "object",
                    "propertyNames": {"enum": list(ORACLE_NAMES)},
                    "additionalProperties": {"$ref": "#/$defs/oracle"},
                },
            },
        },
        "document": {
            "type": "object",
            "required": ["id", "title", "source", "summary", "claims"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "source": {"type": "string"},
                "findings": {"type": "array", "items": {"type": "string"}},
                "summary": {"$ref": "#/$defs/summary"},
                "claims": {"type": "array", "items": {"$ref": "#/$defs/claim"}},
            },
        },
    },
}


def jfloat(x: Any) -> float | None:
    """A JSON-safe, deterministic float: None for missing/NaN/inf, else 6 significant digits."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.6g}")


def _stable(text: str | None) -> float | str | None:
    """A stable error text as JSON: the number when it is one, else the "< floor" string."""
    if text is None:
        return None
    try:
        x = float(text)
    except ValueError:
        return text
    return x if math.isfinite(x) else None


def _estimate(v: Any) -> float | str | None:
    if v.error_estimate is None or not math.isfinite(float(v.error_estimate)):
        return None
    floor = noise_floor(v.oracle, v.method)
    return f"< {floor:g}" if v.error_estimate < floor else float(f"{v.error_estimate:.{ERROR_DIGITS}g}")


def _oracle(v: Any) -> dict[str, Any]:
    abs_text, rel_text = stable_errors(v)
    return {
        "status": v.status, "max_abs_err": _stable(abs_text), "max_rel_err": _stable(rel_text),
        "tolerance": jfloat(v.tolerance), "error_estimate": _estimate(v), "method": v.method or "",
        "detail": v.detail or "", "message": v.message or "",
        "dims": {str(k): int(n) for k, n in v.dims.items()} if v.dims is not None else None,
    }


def claim_json(s: ClaimSummary, figure: str | None = None, results: Sequence[ClaimSummary] = (),
               info: DocInfo | None = None) -> dict[str, Any]:
    from gradcheck.report.markdown import diagnosis_text, repaired_of, siblings_of

    d = s.diagnosis
    symbols = info.symbols if info is not None else {}
    notes = info.fix_notes if info is not None else {}
    siblings = siblings_of(s, results)
    fixes = [s.repair.latex] if s.repair is not None and s.repair.latex else []
    fixes += [r.latex for r in siblings if r.latex]
    return {
        "id": s.id, "document": s.document, "name": s.name, "locator": s.locator, "equation": s.latex,
        "formula": s.formula_source, "of": s.of, "wrt": s.wrt, "kind": s.kind, "layout": s.layout,
        "convention": s.convention, "sense": s.sense, "expected": s.expect, "expected_diagnosis": s.expect_diagnosis,
        "expected_ok": s.expected_ok, "verdict": s.verdict, "message": s.message,
        "diagnosis": None if d is None else {"kind": d.kind, "text": d.text,
                                             "factor": jfloat(getattr(d, "factor", None))},
        "fix": getattr(d, "fix", None) if d is not None else None,
        "repair": None if s.repair is None else {"formula": s.repair.formula, "edits": list(s.repair.edits),
                                                 "confirmed_by": list(s.repair.confirmed_by), "text": s.repair.text,
                                                 "latex": s.repair.latex, "words": list(s.repair.words),
                                                 "explanation": s.repair.explanation},
        "figure": figure,
        "explanation": diagnosis_text(s, results, symbols),
        "fix_latex": fixes,
        "fix_note": notes.get(s.name),
        "repaired_by": [r.id for r in siblings],
        "repairs": [r.id for r in repaired_of(s, results)],
        "sign_convention_only": bool(s.convention_only),
        "sizes": s.sizes,
        "judged_by": s.judged_by,
        "oracles": {o: _oracle(s.oracles[o]) for o in ORACLE_NAMES if o in s.oracles},
    }


def build_json(doc_results: Sequence[tuple[Any, Sequence[Any]]], *,
               figures: Mapping[tuple[str, str], str] | None = None,
               oracles: Sequence[str] | None = None) -> dict[str, Any]:
    """The report.json document (a dict) from ``[(Derivation | DocInfo, [ClaimResult | ClaimSummary])]``."""
    from gradcheck import __version__
    from gradcheck.check import N_POINTS
    from gradcheck.report.run import SEED

    figures = dict(figures or {})
    documents = []
    for doc, results in doc_results:
        info = doc_info(doc)
        summaries = [summarize(r, k, info.id) for k, r in enumerate(results)]
        documents.append({
            "id": info.id, "title": info.title, "source": info.source, "findings": list(info.findings),
            "summary": counts(summaries),
            "claims": [claim_json(s, figures.get((s.document, s.name)), summaries, info) for s in summaries],
        })
    ran = oracles or sorted({o for d in documents for c in d["claims"] for o in c["oracles"]},
                            key=ORACLE_NAMES.index) or ORACLE_NAMES
    return {"gradcheck_version": __version__, "oracles": [o for o in ORACLE_NAMES if o in ran], "seed": SEED,
            "n_points": N_POINTS, "documents": documents}


def dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_schema(path: str | Path = SCHEMA_PATH) -> None:
    Path(path).write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")


def validate(doc: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` follows the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
