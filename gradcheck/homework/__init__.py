"""Homework files: a model and claims in TOML, checked by ``gradcheck check FILE.toml``."""

from gradcheck.homework.load import HomeworkError, load, loads

__all__ = ["HomeworkError", "check_file", "load", "loads"]


def __getattr__(name):  # check_file pulls in the checker (numpy, oracles); load it on first use
    if name == "check_file":
        from gradcheck.homework.checkfile import check_file

        return check_file
    raise AttributeError(name)
