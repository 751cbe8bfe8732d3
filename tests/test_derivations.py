"""Every claim of every source document gets its expected verdict (and diagnosis, where given).

Each claim states its expected verdict and the one-line reason next to it in ``derivations/``;
the reason is shown when the check fails.
"""

import pytest

from derivations import DOCUMENTS
from gradcheck.check import check_claim

CASES = [pytest.param(doc, claim, id=f"{doc.id}-{claim.name}") for doc in DOCUMENTS for claim in doc.claims]


def test_every_document_is_registered():
    assert [d.id for d in DOCUMENTS] == ["000", "001", "002", "003"]


def test_every_claim_states_its_expected_verdict_and_reason():
    missing = [f"{d.id}/{c.name}" for d in DOCUMENTS for c in d.claims if not c.expect or not c.reason]
    assert not missing


def test_claim_names_are_unique_per_document():
    for d in DOCUMENTS:
        names = [c.name for c in d.claims]
        assert len(names) == len(set(names)), d.id


@pytest.mark.parametrize("doc,claim", CASES)
def test_expected_verdict(doc, claim):
    r = check_claim(doc, claim)
    assert r.verdict == claim.expect, f"{claim.reason} | {r.message} | " + "; ".join(
        f"{o}: {v.status} {v.message}" for o, v in r.oracles.items())
    if claim.expect_diagnosis:
        assert r.diagnosis is not None and r.diagnosis.kind == claim.expect_diagnosis, (claim.reason, r.diagnosis)
    if claim.expect in ("correct", "incorrect"):  # every oracle that ran agrees (none errored)
        assert all(v.status in ("pass", "fail", "shape", "skipped") for v in r.oracles.values()), r.oracles
