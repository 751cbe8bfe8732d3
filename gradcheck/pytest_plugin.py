"""pytest plugin: every claim of a homework file is a test item, ``hw/mlp.toml::dW1``.

Registered through the ``pytest11`` entry point (``gradcheck = "gradcheck.pytest_plugin"``), so it
is active wherever gradcheck is installed, and collects nothing until asked (unrelated TOML files are
never read as homework):

* ``--gradcheck`` on the command line: every ``*.toml`` with a ``[[claims]]`` table under the paths
  pytest collects (or given on the command line);
* or the ini option ``gradcheck_files = hw/*.toml`` (glob patterns, relative to the rootdir);
* or naming the file on the command line: ``pytest hw/mlp.toml``.

An item passes when its claim is correct, or has the verdict its ``expect`` names (a deliberately wrong
formula with ``expect = "incorrect"`` passes). A failing item prints :func:`gradcheck.failure.format_failure`.

Settings (see :mod:`gradcheck.tolerances`): ini options ``gradcheck_rtol``, ``gradcheck_atol``,
``gradcheck_points``, ``gradcheck_seed``, ``gradcheck_oracles``, ``gradcheck_repair``; a file's own
``[check]`` table overrides them for that file.

This module imports only the standard library and pytest at load time (gradcheck's numerical code,
JAX and SymPy are imported when a homework item runs), so the plugin costs nothing in test runs that
do not use it.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

import pytest

INI = {
    "gradcheck_files": ("args", "glob patterns (relative to the rootdir) of homework files to collect"),
    "gradcheck_rtol": ("string", "relative tolerance for every oracle (default: each oracle's own)"),
    "gradcheck_atol": ("string", "absolute tolerance (default 0)"),
    "gradcheck_points": ("string", "points per claim (default 3)"),
    "gradcheck_seed": ("string", "seed of the points (default 0)"),
    "gradcheck_oracles": ("string", "comma-separated oracles (default: finite_difference,autodiff,symbolic)"),
    "gradcheck_repair": ("string", "search a repair for a failing claim: true (default) or false"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck", "gradcheck homework files")
    group.addoption("--gradcheck", action="store_true", default=False,
                    help="collect homework files: *.toml files with a [[claims]] table")
    for name, (kind, text) in INI.items():
        parser.addini(name, text, type=kind, default=[] if kind == "args" else None)


def _named_on_command_line(config: pytest.Config, path: Path) -> bool:
    here = config.invocation_params.dir
    return any((here / arg.split("::")[0]).resolve() == path.resolve() for arg in config.args)


def _wanted(config: pytest.Config, path: Path) -> bool:
    if config.getoption("gradcheck") or _named_on_command_line(config, path):
        return True
    patterns = config.getini("gradcheck_files")
    if not patterns:
        return False
    try:
        rel = path.resolve().relative_to(config.rootpath.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(path.name, p) for p in patterns)


def _has_claims(path: Path) -> bool:
    """A TOML file with a ``[[claims]]`` table; a file that cannot be parsed is collected if it says ``[[claims]]``
    (so its syntax error is reported rather than the file silently skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    try:
        return isinstance(tomllib.loads(text).get("claims"), list)
    except tomllib.TOMLDecodeError:
        return "[[claims]]" in text


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix == ".toml" and _wanted(parent.config, file_path) and _has_claims(file_path):
        return HomeworkFile.from_parent(parent, path=file_path)
    return None


def ini_settings(config: pytest.Config) -> dict[str, Any]:
    from gradcheck.tolerances import validate

    raw = {}
    for name in INI:
        if name == "gradcheck_files":
            continue
        value = config.getini(name)
        if value not in (None, "", []):
            raw[name.removeprefix("gradcheck_")] = value
    return validate(raw, f"{config.inipath or 'ini'} (gradcheck_* options)")


class BadHomework(Exception):
    """A homework file or setting that cannot be used: reported as a collection error, without traceback."""


class HomeworkFile(pytest.File):
    def collect(self):
        from gradcheck.homework.load import load
        from gradcheck.model import ModelError
        from gradcheck.tolerances import CheckSettings, SettingsError, file_settings

        try:
            doc = tomllib.loads(self.path.read_text(encoding="utf-8"))
            settings = CheckSettings().merged(ini_settings(self.config)).merged(file_settings(doc, self.path.name))
            derivation = load(self.path)
        except tomllib.TOMLDecodeError as exc:
            raise BadHomework(f"{self.path.name}: TOML syntax error: {exc}") from None
        except (ModelError, SettingsError) as exc:
            raise BadHomework(str(exc)) from None
        for claim in derivation.claims:
            yield ClaimItem.from_parent(self, name=claim.name, derivation=derivation, claim=claim, settings=settings)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, BadHomework):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class ClaimFailed(Exception):
    """A claim that is not correct (or not as its ``expect`` says)."""

    def __init__(self, result, expectation: str):
        super().__init__(expectation)
        self.result, self.expectation = result, expectation


class ClaimItem(pytest.Item):
    def __init__(self, *, derivation, claim, settings, **kwargs):
        super().__init__(**kwargs)
        self.derivation, self.claim, self.settings = derivation, claim, settings
        self.result = None

    def runtest(self) -> None:
        from dataclasses import replace

        from gradcheck.check import check_claim

        kwargs = {**self.settings.claim_kwargs(), "repair": False}
        r = check_claim(self.derivation, self.claim, **kwargs)
        ok = r.expected_ok if self.claim.expect is not None else r.verdict == "correct"
        if not ok and self.settings.repair and r.verdict in ("incorrect", "shape error"):
            found = _repair(self.derivation, self.claim, self.settings)
            if found is not None:
                r = replace(r, repair=found.repair,
                            notes=r.notes + ((f"repair: {found.message}",) if found.repair is None else ()))
        self.result = r
        self.user_properties.append(("verdict", r.verdict))
        if not ok:
            raise ClaimFailed(r, _expectation(self.claim))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ClaimFailed):
            from gradcheck.failure import format_failure

            return format_failure(excinfo.value.result, expectation=excinfo.value.expectation)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


def _expectation(claim) -> str:
    if claim.expect is None:
        return "expected correct"
    extra = f" with diagnosis {claim.expect_diagnosis!r}" if claim.expect_diagnosis else ""
    return f"expected {claim.expect}{extra} (the file's `expect`)"


def _repair(derivation, claim, settings):
    from gradcheck.repair import find_repair

    try:
        return find_repair(derivation, claim, oracles=settings.oracles)
    except Exception:  # noqa: BLE001 - the repair is a bonus: the failure stands without it
        return None
