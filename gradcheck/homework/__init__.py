"""Homework files: a model and claims in TOML, checked by ``gradcheck check FILE.toml``."""

from gradcheck.homework.load import HomeworkError, load, loads

__all__ = ["HomeworkError", "load", "loads"]
