"""The examples in the package's docstrings run, and say what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import pipeline

SKIP = {"pipeline.engines.ray"}  # imports fine, but its examples would need a Ray cluster


def _modules() -> list[str]:
    names = [pipeline.__name__]
    for info in pkgutil.walk_packages(pipeline.__path__, prefix="pipeline."):
        if info.name not in SKIP:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_the_examples_are_not_all_skipped() -> None:
    """Guards the test above against passing because nothing was run."""
    finder = doctest.DocTestFinder()
    examples = 0
    for name in _modules():
        for test in finder.find(importlib.import_module(name)):
            examples += sum(1 for e in test.examples if not e.options.get(doctest.SKIP))
    assert examples >= 10
