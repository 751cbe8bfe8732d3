"""Repair search: the smallest edit that makes a wrong formula right (issue 7).

``find_repair(source, claim, max_edits=2, budget=5.0, max_candidates=2000) -> RepairOutcome``;
see :mod:`gradcheck.repair.search` for the method and :mod:`gradcheck.repair.edits` for the edits.
"""

from gradcheck.repair.edits import DIAGNOSIS_KIND, Edit
from gradcheck.repair.search import Repair, RepairOutcome, find_repair
from gradcheck.repair.source import NotSearchable, formula_expression, formula_text, inlined_text

__all__ = ["DIAGNOSIS_KIND", "Edit", "NotSearchable", "Repair", "RepairOutcome", "find_repair",
           "formula_expression", "formula_text", "inlined_text"]
