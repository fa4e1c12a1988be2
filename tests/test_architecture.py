"""The package's shape, checked: no private imports across modules, no import cycles,
one place for the output layout's file names and for errors' exit codes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline import errors

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, *, top_level_only: bool) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not top_level_only:
        return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom | ast.Import)]
    # Module-level imports run at import time; those inside functions or TYPE_CHECKING
    # blocks do not, so they cannot form a cycle.
    return [n for n in tree.body if isinstance(n, ast.ImportFrom | ast.Import)]


def test_no_module_imports_another_modules_private_names() -> None:
    offences = []
    for name, path in MODULES.items():
        for node in _imports(path, top_level_only=False):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline"):
                offences += [
                    f"{name} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and alias.name != "__version__"
                ]
    assert offences == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for node in _imports(path, top_level_only=True):
            targets = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
            )
            graph[name].update(t for t in targets if t in MODULES and t != name)
    return graph


def test_the_package_has_no_import_cycles() -> None:
    graph, state, cycles = _graph(), {}, []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_check_above_sees_the_package() -> None:
    graph = _graph()
    assert "pipeline.generation.backend" in graph["pipeline.model_stage"]
    assert "pipeline.errors" in graph["pipeline.config"]


@pytest.mark.parametrize(
    "file_name", ["run.json", "records.jsonl", "records.parquet", ".id2en.lock"]
)
def test_output_file_names_are_written_in_one_module(file_name: str) -> None:
    holders = sorted(
        name
        for name, path in MODULES.items()
        if any(
            isinstance(node, ast.Constant) and node.value == file_name
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    )
    assert holders == ["pipeline.records"]


def test_every_error_carries_the_exit_code_the_cli_documents() -> None:
    from pipeline.cli import EPILOG

    codes = {
        errors.ConfigError: 2,
        errors.InputError: 2,
        errors.DecodeError: 2,
        errors.LongInputError: 2,
        errors.RunRefusedError: 2,
        errors.ModelLoadError: 3,
        errors.FileSystemError: 4,
    }
    for error, code in codes.items():
        assert issubclass(error, errors.Id2enError)
        assert errors.exit_code(error("x")) == code
        assert f"{code} " in EPILOG
    assert set(codes) == {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.Id2enError)
    } - {errors.Id2enError}
