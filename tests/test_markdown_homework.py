"""Markdown derivations: reading (TOML block, display equations, line numbers), chains and their first
wrong step, definitions, the examples, and `gradcheck check FILE.md` (terminal, --json, --report, exit codes)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.homework import HomeworkError
from gradcheck.homework.markdown import check_markdown, split_markdown

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.md"))
FAST = {"oracles": ("finite_difference",), "n_points": 1}

TOML = """
[dims]
m = 6
d = 3
[data]
X = { shape = ["m", "d"] }
y = { shape = ["m"], kind = "binary" }
[params]
w = ["d"]
[forward]
z = "X @ w"
p = "sigmoid(z)"
loss = "-sum(y * log(p) + (1 - y) * log(1 - p)) / m"
[notation]
"\\\\hat{y}" = "p"
"""


def test_split_finds_the_toml_block_and_equations_with_their_lines():
    text = "# t\n\n```toml" + TOML + "```\n\nprose $$ \\hat{y} = \\sigma(X w) $$\n\n```\n$$ x = 1 $$\n```\n\\[\n" \
           "\\frac{\\partial L}{\\partial w}\n = X^\\top (\\hat{y} - y) / m\n\\]\n"
    toml, eqs = split_markdown(text)
    assert "[forward]" in toml
    lines = text.splitlines()
    assert [e.line for e in eqs] == [lines.index("prose $$ \\hat{y} = \\sigma(X w) $$") + 1, lines.index("\\[") + 2]
    assert eqs[1].latex == r"\frac{\partial L}{\partial w} = X^\top (\hat{y} - y) / m"  # joined, code skipped


def test_front_matter():
    toml, eqs = split_markdown("+++" + TOML + "+++\n$$ \\hat{y} = \\sigma(X w) $$\n")
    assert "[params]" in toml and len(eqs) == 1 and eqs[0].line == TOML.count("\n") + 2


@pytest.mark.parametrize("text,fragment", [
    ("$$ x = 1 $$\n", "no model"),
    ("+++\n[dims]\n", "never closed"),
])
def test_missing_model_is_a_clear_error(text, fragment):
    with pytest.raises(HomeworkError, match=fragment):
        split_markdown(text)


def _write(tmp_path, body: str) -> Path:
    f = tmp_path / "d.md"
    f.write_text("```toml" + TOML + "```\n\n" + body, encoding="utf-8")
    return f


def test_chain_names_the_first_wrong_step_and_what_follows(tmp_path):
    f = _write(tmp_path, r"$$ \frac{\partial L}{\partial w} = \frac{1}{m} X^\top (\hat{y} - y) = \frac{1}{m} X^\top "
                         r"(y - \hat{y}) = -\frac{1}{m} X^\top (\hat{y} - y) = \frac{1}{m} X^\top (\hat{y} - y) "
                         r"= X^\top (\hat{y} - y) $$" + "\n")
    _, (rep,) = check_markdown(f, check_kwargs=FAST)
    assert [r.verdict for r in rep.results] == ["correct", "incorrect", "incorrect", "correct", "incorrect"]
    assert rep.chain.startswith("first wrong step: step 2 (incorrect); step 1 before it is correct")
    assert "step 3 repeats it" in rep.chain and "step 4 repairs it" in rep.chain
    assert "step 5 is wrong differently" in rep.chain
    assert rep.results[1].diagnosis.kind == "sign flip"


def test_definitions_and_declarations(tmp_path):
    f = _write(tmp_path, "$$ \\hat{y} = \\sigma(X w) $$\n\n$$ z = X^\\top w $$\n\n"
                         "$$ \\delta \\equiv \\frac{\\partial L}{\\partial z} $$\n\n"
                         "$$ \\frac{\\partial L}{\\partial w} = X^\\top \\delta $$\n\n$$ a + b $$\n")
    _, reps = check_markdown(f, check_kwargs=FAST)
    assert [r.kind for r in reps] == ["definition", "definition", "declaration", "claim", "not checked"]
    assert reps[0].verdicts[0][0] == "agrees"
    assert reps[1].verdicts[0][0] == "shape error"  # X^T w: (3, 6) @ (3,) does not multiply
    assert reps[3].results[0].verdict == "correct" and reps[3].results[0].claim.uses == {"delta": ("loss", "z")}


def test_an_unreadable_equation_does_not_stop_the_others(tmp_path):
    f = _write(tmp_path, "$$ \\frac{\\partial L}{\\partial w} = X^\\top (\\hat{y} - {y) $$\n\n"
                         "$$ \\frac{\\partial L}{\\partial w} = \\frac{1}{m} X^\\top (\\hat{y} - y) $$\n")
    _, reps = check_markdown(f, check_kwargs=FAST)
    assert reps[0].kind == "unreadable" and "unbalanced brace" in reps[0].message
    assert reps[1].results[0].verdict == "correct"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_read_fully_and_have_wrong_steps_that_are_found(path):
    _, reps = check_markdown(path, check_kwargs=FAST)
    assert not [r for r in reps if r.kind in ("unreadable", "not checked")]
    results = [r for rep in reps for r in rep.results]
    assert any(r.verdict == "correct" for r in results)
    assert any(r.verdict in ("incorrect", "shape error") for r in results)
    assert all(r.verdict != "not evaluable" for r in results), [r.message for r in results]
    assert all(v == "agrees" for rep in reps for v, _ in rep.verdicts)


def test_at_least_four_markdown_examples():
    assert len(EXAMPLES) >= 4


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "gradcheck", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def test_cli_terminal_json_and_report(tmp_path):
    out = tmp_path / "r.md"
    p = _cli(str(ROOT / "examples" / "chain_wrong_middle_step.md"), "--json", "--report", str(out),
             "--oracles", "finite_difference", "--no-repair")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    eq = next(e for e in doc["equations"] if e["kind"] == "claim")
    assert eq["line"] == 31 and eq["latex"].startswith(r"\frac{\partial J}{\partial w}")
    assert [s["verdict"] for s in eq["steps"]] == ["correct", "correct", "incorrect", "incorrect", "correct"]
    assert eq["steps"][2]["diagnosis"]["kind"] == "sign flip"
    assert "first wrong step: step 3" in eq["chain"]
    assert "line 31:" in p.stderr and "PROBLEMS" in p.stderr
    table = out.read_text()
    assert "| 31 |" in table and "first wrong step: step 3" in table


def test_cli_repair_is_written_in_the_documents_notation(tmp_path):
    f = _write(tmp_path, r"$$ \frac{\partial L}{\partial w} = X^\top (\hat{y} - y) $$" + "\n")
    p = _cli(str(f), "--oracles", "finite_difference", "--json")
    step = json.loads(p.stdout)["equations"][0]["steps"][0]
    assert step["diagnosis"]["kind"] == "mean vs sum"
    assert step["repair_latex"] == r"\frac{X^\top \left(\hat{y} - y\right)}{m}"


def test_cli_bad_markdown_exits_2(tmp_path):
    f = tmp_path / "bad.md"
    f.write_text("no model here\n$$ x = 1 $$\n")
    p = _cli(str(f))
    assert p.returncode == 2 and "no model" in p.stderr and "Traceback" not in p.stderr


def test_three_oracles_agree_on_a_markdown_derivation():
    """Lowered LaTeX runs on every backend: SymPy (exact), JAX and finite differences give one verdict."""
    _, reps = check_markdown(ROOT / "examples" / "softmax_regression_rows.md")
    results = [r for rep in reps for r in rep.results]
    assert all(r.verdict != "oracles disagree" for r in results), [(r.claim.source, r.message) for r in results]
    assert {o for r in results for o in r.oracles} == {"finite_difference", "autodiff", "symbolic"}


def test_aligned_rows_continue_a_chain_and_matrices_stay_whole():
    body = ("$$\n\\begin{aligned}\n\\frac{\\partial L}{\\partial w} &= X^\\top (\\hat{y} - y) \\\\\n"
            "  &= \\frac{1}{m} X^\\top (\\hat{y} - y) \\label{eq:w} \\\\\n"
            "z &= \\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}\n\\end{aligned}\n$$\n\n"
            "\\begin{align*}\n\\hat{y} &= \\sigma(z)\n\\end{align*}\n")
    text = "```toml" + TOML + "```\n" + body
    _, eqs = split_markdown(text)
    lines = text.splitlines()
    starts = [next(k + 1 for k, line in enumerate(lines) if line.startswith(head))
              for head in ("\\frac{\\partial L}", "z &=", "\\hat{y} &=")]
    assert [e.line for e in eqs] == starts
    assert eqs[0].latex == (r"\frac{\partial L}{\partial w} = X^\top (\hat{y} - y) = \frac{1}{m} X^\top "
                            r"(\hat{y} - y)")
    assert eqs[1].latex == r"z = \begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"
    assert eqs[2].latex == r"\hat{y} = \sigma(z)"


def test_each_step_of_an_aligned_chain_has_its_own_line(tmp_path):
    body = ("Text.\n\n$$\n\\begin{aligned}\n\\frac{\\partial L}{\\partial w}\n"
            "  &= \\frac{1}{m} X^\\top (\\hat{y} - y) \\\\\n  &= X^\\top (\\hat{y} - y)\n\\end{aligned}\n$$\n")
    f = _write(tmp_path, body)
    lines = f.read_text().splitlines()
    lhs = lines.index("\\frac{\\partial L}{\\partial w}") + 1
    _, (rep,) = check_markdown(f, check_kwargs=FAST)
    assert rep.line == lhs and rep.step_lines == [lhs + 1, lhs + 2]
    assert [r.verdict for r in rep.results] == ["correct", "incorrect"]


def test_a_notation_entry_must_name_something(tmp_path):
    f = tmp_path / "n.md"
    f.write_text("```toml" + TOML.replace('"p"', '"pp"', 1)
                 + "```\n$$ \\hat{y} = \\sigma(X w) $$\n")
    p = _cli(str(f))
    assert p.returncode == 2 and "`\\hat{y}` maps to 'pp'" in p.stderr and "did you mean 'p'" in p.stderr


def test_cli_check_table_and_tolerance_flags(tmp_path):
    f = tmp_path / "c.md"
    f.write_text("```toml" + TOML + '[check]\nrtol = "tight"\n```\n$$ \\hat{y} = \\sigma(X w) $$\n')
    p = _cli(str(f))
    assert p.returncode == 2 and "rtol" in p.stderr and "Traceback" not in p.stderr
    g = _write(tmp_path, "$$ \\hat{y} = \\sigma(X w) $$\n")
    p = _cli(str(g), "--rtol", "2")
    assert p.returncode == 2 and "--rtol must be in [0, 1)" in p.stderr
