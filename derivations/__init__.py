"""The source documents, one module each. :data:`DOCUMENTS` lists every module's ``DERIVATION``.

A module is found by being here: any module in this package that defines ``DERIVATION`` is
registered, in the order of the document ids.
"""

from __future__ import annotations

import importlib
import pkgutil

from gradcheck.claim import Derivation


def _discover() -> tuple[Derivation, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        derivation = getattr(module, "DERIVATION", None)
        if isinstance(derivation, Derivation):
            found.append(derivation)
    return tuple(sorted(found, key=lambda d: d.id))


DOCUMENTS: tuple[Derivation, ...] = _discover()


def by_id(doc_id: str) -> Derivation:
    for d in DOCUMENTS:
        if d.id == doc_id:
            return d
    raise KeyError(f"no document {doc_id!r}; known: {', '.join(d.id for d in DOCUMENTS)}")
