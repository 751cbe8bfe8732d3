"""The `gradcheck` command line and the discrepancy report (REPORT.md, report.json, figures).

End to end through subprocesses, on the small test-only documents of tests/report_testdocs.py
(loaded with --module), mostly with the finite-difference oracle alone to stay fast.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "gradcheck", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or ROOT, timeout=300)


def report(out: Path, *docs: str, oracles=("finite_difference",), jobs: int = 2) -> subprocess.CompletedProcess:
    args = ["report", "--out", str(out), "--module", "report_testdocs", "--jobs", str(jobs)]
    for d in docs:
        args += ["--document", d]
    for o in oracles:
        args += ["--oracle", o]
    return run_cli(*args)


@pytest.fixture(scope="module")
def t1_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("t1")
    proc = report(out, "T1", "T3")
    return out, proc


# --------------------------------------------------------------------------------------------- exit codes
def test_all_as_expected_exits_0_and_writes_the_files(t1_report):
    out, proc = t1_report
    assert proc.returncode == 0, proc.stderr
    assert (out / "REPORT.md").is_file() and (out / "report.json").is_file()
    assert list((out / "figures").glob("*.png"))


def test_an_unexpected_verdict_exits_1(tmp_path):
    proc = report(tmp_path, "T2")
    assert proc.returncode == 1, proc.stderr
    assert "T2/dL_dW_neg" in proc.stderr and "expected correct" in proc.stderr


def test_unknown_document_exits_2_with_a_clear_message(tmp_path):
    proc = report(tmp_path, "nope")
    assert proc.returncode == 2
    assert "unknown document id 'nope'" in proc.stderr and "T1" in proc.stderr
    assert not (tmp_path / "REPORT.md").exists()


@pytest.mark.parametrize("args", [["report", "--oracle", "magic"], ["report", "--jobs", "0"], ["frobnicate"], [],
                                  ["report", "--module", "no_such_module_for_gradcheck"]])
def test_usage_errors_exit_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2, (args, proc.stdout, proc.stderr)


def test_quiet_prints_nothing(tmp_path):
    proc = report(tmp_path, "T3")
    assert proc.returncode == 0 and "wall time" in proc.stderr
    args = ["report", "--out", str(tmp_path), "--module", "report_testdocs", "-d", "T3", "-o", "finite_difference",
            "--quiet", "-j", "1"]
    proc = run_cli(*args)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == ""


# --------------------------------------------------------------------------------------------- help, imports
def test_help_documents_every_option():
    top = run_cli("--help")
    assert top.returncode == 0 and "report" in top.stdout and "check" in top.stdout
    rep = run_cli("report", "--help")
    assert rep.returncode == 0
    for option in ("--out", "--document", "--oracle", "--quiet", "--jobs", "--module", "--list"):
        assert option in rep.stdout
    chk = run_cli("check", "--help")
    assert chk.returncode == 0 and "usage: gradcheck check" in chk.stdout


def test_the_cli_does_not_import_heavy_modules():
    code = ("import sys, gradcheck.cli\n"
            "try:\n    gradcheck.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "try:\n    gradcheck.cli.main(['report', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('jax', 'sympy', 'matplotlib', 'scipy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_list_documents():
    proc = run_cli("report", "--list", "--module", "report_testdocs")
    assert proc.returncode == 0 and re.search(r"^T1\t4 claims", proc.stdout, re.M)


# --------------------------------------------------------------------------------------------- report.json
def test_json_validates_against_the_schema(t1_report):
    import jsonschema

    from gradcheck.report.jsondoc import SCHEMA, SCHEMA_PATH

    out, _ = t1_report
    doc = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert json.loads(SCHEMA_PATH.read_text()) == SCHEMA  # the committed schema file is up to date


def test_json_content(t1_report):
    out, _ = t1_report
    doc = json.loads((out / "report.json").read_text())
    assert [d["id"] for d in doc["documents"]] == ["T1", "T3"]
    t1 = doc["documents"][0]
    claims = {c["name"]: c for c in t1["claims"]}
    assert list(claims) == ["dL_dW", "dL_dW_twice", "dL_dW_raises", "dL_dW_shape"]  # document order
    assert claims["dL_dW"]["verdict"] == "correct"
    assert claims["dL_dW_twice"]["verdict"] == "incorrect"
    assert claims["dL_dW_twice"]["diagnosis"]["kind"] == "scale factor"
    assert claims["dL_dW_twice"]["fix"] == "multiply by 1/2"
    assert claims["dL_dW_twice"]["oracles"]["finite_difference"]["status"] == "fail"
    assert claims["dL_dW_raises"]["verdict"] == "not evaluable"
    assert "this formula always fails" in claims["dL_dW_raises"]["message"]
    assert claims["dL_dW_shape"]["verdict"] == "shape error"
    assert t1["summary"] == {"claims": 4, "correct": 1, "incorrect": 1, "shape_error": 1, "not_evaluable": 1,
                             "oracles_disagree": 0, "convention_only": 0, "with_expectation": 4, "as_expected": 4,
                             "unexpected": 0}
    assert doc["documents"][1]["summary"]["convention_only"] == 1
    assert doc["oracles"] == ["finite_difference"]


# --------------------------------------------------------------------------------------------- REPORT.md
def _table_rows_are_consistent(text: str) -> None:
    """Every row of a pipe table has as many (unescaped) cells as its header."""
    width = None
    for line in text.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line)) - 1
        if width is None:
            width = cells
        assert cells == width, line


def test_markdown_parses_and_every_figure_exists(t1_report):
    from markdown_it import MarkdownIt

    out, _ = t1_report
    text = (out / "REPORT.md").read_text()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    images = [child.attrs["src"] for t in tokens if t.type == "inline" for child in (t.children or [])
              if child.type == "image"]
    assert images, "the wrong matrix-valued claim has a figure"
    for src in images:
        assert (out / src).is_file(), src
    assert {Path(i).name for i in images} == {p.name for p in (out / "figures").glob("*.png")}
    assert sum(t.type == "table_open" for t in tokens) >= 4  # summary, notation, 2 claim tables, tolerances
    _table_rows_are_consistent(text)


def test_markdown_content(t1_report):
    out, _ = t1_report
    text = (out / "REPORT.md").read_text()
    assert "## Summary" in text and "## How it was checked" in text
    assert r"Least squares \| a test document" in text  # pipes escaped in table cells
    assert r"\Vert R\Vert" in text and r"\vert R\vert" in text  # no raw pipe inside math
    assert "#### T1/dL_dW_twice" in text and "#### T1/dL_dW_raises" in text
    assert "#### T1/dL_dW\n" not in text  # correct claims get no details
    assert "X.T @ R" in text  # the formula source, read with ast
    assert "scale factor" in text and "multiply by 1/2" in text
    assert "this formula always fails" in text
    assert "seed 0" in text and "complex step" in text
    assert re.search(r"\| \[T3\].* \| 1 \| 1 \| 0 \| 0 \| 0 \| 0 \| 1 \| 1/1 \|", text)


def test_two_runs_are_byte_identical(t1_report, tmp_path):
    out, _ = t1_report
    again = report(tmp_path, "T1", "T3", jobs=1)
    assert again.returncode == 0, again.stderr
    for rel in ["REPORT.md", "report.json"] + [f"figures/{p.name}" for p in (out / "figures").glob("*.png")]:
        assert (out / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_all_three_oracles(tmp_path):
    """One run with SymPy and JAX too: their columns are filled and the JSON still validates."""
    import jsonschema

    from gradcheck.report.jsondoc import SCHEMA

    proc = report(tmp_path, "T3", oracles=())
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "report.json").read_text())
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)
    oracles = doc["documents"][0]["claims"][0]["oracles"]
    assert set(oracles) == {"finite_difference", "symbolic", "autodiff"}
    assert all(v["status"] == "pass" for v in oracles.values())
    text = (tmp_path / "REPORT.md").read_text()
    assert "✓ proved" in text or "✓ numeric (50 digits)" in text


# --------------------------------------------------------------------------------------------- in process
def test_a_check_that_raises_is_reported_not_dropped(monkeypatch):
    import gradcheck.check
    from gradcheck.report import run

    def boom(*a, **k):
        raise ZeroDivisionError("engine bug")

    monkeypatch.setattr(gradcheck.check, "check_claim", boom)
    docs = run.select_documents(["T2"], ["report_testdocs"])
    [(info, [s])] = run.run_checks(docs, jobs=1, modules=["report_testdocs"])
    assert s.verdict == "not evaluable" and "ZeroDivisionError: engine bug" in s.message
    assert s.expected_ok is False


def test_render_functions_accept_claim_results(tmp_path):
    """`gradcheck check --report` passes ClaimResult objects straight to the shared renderers."""
    from gradcheck.check import check_derivation
    from gradcheck.report import build_json, render_markdown
    from gradcheck.report.jsondoc import validate
    from report_testdocs import T1

    results = check_derivation(T1, oracles=("finite_difference",))
    md = render_markdown([(T1, results)], title="homework")
    assert md.startswith("# homework\n") and "#### T1/dL_dW_twice" in md
    doc = build_json([({"id": "hw", "title": "Homework"}, results)])
    validate(doc)
    assert doc["documents"][0]["id"] == "hw"


def test_formula_text():
    from gradcheck.report.summary import function_text

    f, g = (lambda a, b: a @ b.T), (lambda c: -c)  # two lambdas on one line

    def h(x):
        """doc"""
        return x + 1

    assert function_text(f) == "a @ b.T" and function_text(g) == "-c"
    assert function_text(h) == "x + 1"


def test_figure_names_are_safe():
    from gradcheck.report.figures import figure_name

    assert figure_name("001", "dH/dW (as written)") == "001_dH_dW_as_written.png"


@pytest.mark.parametrize("jobs", [1, 2, 3, 8])
def test_blocks_cover_every_claim_once(jobs):
    from gradcheck.report.run import make_blocks, select_documents

    docs = select_documents(["T1", "T2", "T3"], ["report_testdocs"])
    blocks = make_blocks(docs, jobs)
    got = sorted((b.doc_id, k) for b in blocks for k in b.indices)
    assert got == sorted((d.id, k) for d in docs for k in range(len(d.claims)))
    for b in blocks:  # consecutive claims of one document
        assert list(b.indices) == list(range(b.indices[0], b.indices[-1] + 1))


def test_progress_reaches_every_claim_through_the_pool():
    from gradcheck.report.run import run_checks, select_documents

    seen = []
    docs = select_documents(["T1", "T2"], ["report_testdocs"])
    results = run_checks(docs, oracles=("finite_difference",), jobs=2, modules=["report_testdocs"],
                         progress=lambda n, total, s: seen.append((n, total, s.id)))
    assert [n for n, _, _ in seen] == [1, 2, 3, 4, 5] and {t for _, t, _ in seen} == {5}
    assert sorted(i for _, _, i in seen) == sorted(s.id for _, rs in results for s in rs)


def test_figures_drawn_where_claims_are_checked_are_the_figures_drawn_at_the_end(tmp_path):
    from dataclasses import replace

    from gradcheck.report.figures import figure_title, heatmaps, wants_figure, write_figures
    from gradcheck.report.run import run_checks, select_documents

    docs = select_documents(["T1"], ["report_testdocs"])
    results = run_checks(docs, oracles=("finite_difference",), jobs=1, modules=["report_testdocs"])
    drawn = [s for _, rs in results for s in rs if wants_figure(s)]
    assert drawn and all(s.figure for s in drawn)  # drawn by the worker that checked the claim
    for s in drawn:
        heatmaps(tmp_path / "again.png", s.claimed, s.truth, title=figure_title(s))
        assert (tmp_path / "again.png").read_bytes() == s.figure
    written = write_figures(results, tmp_path / "a" / "figures", relative_to=tmp_path / "a")
    undrawn = [(info, [replace(s, figure=None) for s in rs]) for info, rs in results]
    redrawn = write_figures(undrawn, tmp_path / "b" / "figures", relative_to=tmp_path / "b")
    assert written == redrawn and written
    for rel in written.values():
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
