"""The discrepancy report: REPORT.md, report.json and heatmaps from checked claims.

``render_markdown`` and ``build_json`` take a list of ``(document, results)`` pairs, where a
document is a :class:`~gradcheck.claim.Derivation` or :class:`DocInfo` and results are
:class:`~gradcheck.check.ClaimResult` or :class:`ClaimSummary` objects, so ``gradcheck check``
and ``gradcheck report`` share them. Heavy modules (matplotlib, the oracles) load only on use.
"""

from gradcheck.report.summary import ClaimSummary, DocInfo, RepairInfo, doc_info, summarize

__all__ = ["ClaimSummary", "DocInfo", "RepairInfo", "doc_info", "summarize", "render_markdown", "build_json",
           "write_figures", "write_report", "SCHEMA"]


def __getattr__(name):
    if name == "render_markdown":
        from gradcheck.report.markdown import render_markdown

        return render_markdown
    if name in ("build_json", "SCHEMA"):
        from gradcheck.report import jsondoc

        return getattr(jsondoc, name)
    if name == "write_figures":
        from gradcheck.report.figures import write_figures

        return write_figures
    if name == "write_report":
        from gradcheck.report.run import write_report

        return write_report
    raise AttributeError(name)
