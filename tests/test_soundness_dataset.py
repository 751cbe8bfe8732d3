"""No coincidental diagnosis or repair on a separately generated set of homework files (issue 10).

The files come from :mod:`tests.soundness_cases` (seeded, rectangular dims, one dim equal to 2 on
purpose, planted factor / transpose / shape / batch-sum mistakes). Every verdict and diagnosis must
be the planted one, a factor may name a dim only when the planted mistake is that dim, and every
repair found must still be correct at a THIRD size that neither the check nor the search has seen.
"""

from __future__ import annotations

import re

import pytest

from gradcheck import Claim, check_claim
from gradcheck.expr import parse
from gradcheck.homework import load
from gradcheck.repair import find_repair
from tests.soundness_cases import cases

FD = ("finite_difference",)
CASES = cases()
THIRD = (41, 43, 47, 53, 59)  # no dim of either size is one of these


def _load(tmp_path, case):
    path = tmp_path / f"{case.id}.toml"
    path.write_text(case.toml)
    return load(str(path))


def test_the_generated_files_have_rectangular_dims_and_a_dim_equal_to_two():
    for case in CASES:
        values = list(case.dims.values())
        assert len(set(values)) == len(values), case.id
        assert 2 in values, case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verdict_and_diagnosis_are_the_planted_ones(tmp_path, case):
    doc = _load(tmp_path, case)
    r = check_claim(doc, doc.claim(case.claim), oracles=FD)
    assert r.verdict == case.verdict, (r.message, r.diagnosis)
    if case.diagnosis:
        assert r.diagnosis is not None and r.diagnosis.kind == case.diagnosis, r.diagnosis
    if case.factor is not None:
        assert abs(r.diagnosis.factor - case.factor) < 1e-9, r.diagnosis
    if r.diagnosis is not None and r.diagnosis.kind in ("scale factor", "mean vs sum"):
        named = set(re.findall(r"[A-Za-z_]\w*", r.diagnosis.text.split("times", 1)[-1].split(":")[0]))
        named &= set(case.dims)
        assert named <= set(case.names), f"names dims {named} by coincidence: {r.diagnosis.text}"


REPAIRED = [c for c in CASES if c.verdict != "correct"]


@pytest.mark.parametrize("case", REPAIRED, ids=[c.id for c in REPAIRED])
def test_every_repair_holds_at_a_third_size(tmp_path, case):
    doc = _load(tmp_path, case)
    claim = doc.claim(case.claim)
    out = find_repair(doc, claim, oracles=FD, budget=10)
    if out.repair is None:
        return  # saying nothing is always allowed; a repair must never be a coincidence
    third = doc.model.with_dims({k: THIRD[i] if v != 1 else 1 for i, (k, v) in enumerate(case.dims.items())})
    fixed = parse(out.repair.formula, where="repair")
    uses = {**doc.derivative_names(claim), **dict(out.repair.uses)}
    repaired = Claim("repaired", claim.wrt, fixed.as_function(fixed.names), of=claim.of, kind=claim.kind,
                     uses=uses, model=third, source=fixed.source)
    r = check_claim(third, repaired, oracles=FD, second=False)
    assert r.verdict == "correct", (out.repair.formula, r.verdict, r.diagnosis)
