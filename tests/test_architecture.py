"""The package's shape, checked: no private imports across modules, no import cycles (also
through imports inside functions), one place for the output layout's file names and for
errors' exit codes."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from pipeline import errors

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
ROOT = "pipeline"


def _imports(path: Path, *, top_level_only: bool) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not top_level_only:
        return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom | ast.Import)]
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


# -- import cycles ------------------------------------------------------------------------


class _RunningImports(ast.NodeVisitor):
    """The imports a module can run: at module level and inside functions alike (one in a
    function only defers a cycle to the first call, and still ties the two modules
    together), but not those for type checkers only (`if TYPE_CHECKING:`), which never run."""

    def __init__(self) -> None:
        self.found: list[ast.ImportFrom | ast.Import] = []

    def visit_If(self, node: ast.If) -> None:
        if ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append(node)


def _targets(node: ast.ImportFrom | ast.Import, modules: Iterable[str]) -> set[str]:
    """The package modules an import statement loads (`from a import b` may load a.b)."""
    known = set(modules)
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = node.module or ""
    names = {f"{base}.{alias.name}" for alias in node.names}
    # The package root is the lazy public facade (its names import modules on access);
    # modules take only __version__ from it, bound before it imports anything, so that is
    # no dependency on the facade (test_modules_take_only_the_version_from_the_root).
    roots = {base} if base != ROOT or _names(node) != {"__version__"} else set()
    return (roots | names) & known


def _names(node: ast.ImportFrom) -> set[str]:
    return {alias.name for alias in node.names}


def _graph(sources: dict[str, str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for name, source in sources.items():
        visitor = _RunningImports()
        visitor.visit(ast.parse(source))
        for node in visitor.found:
            graph[name] |= _targets(node, sources) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

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
    return cycles


def _package_graph() -> dict[str, set[str]]:
    return _graph({name: path.read_text(encoding="utf-8") for name, path in MODULES.items()})


def test_the_package_has_no_import_cycles() -> None:
    assert _cycles(_package_graph()) == []


def test_the_cycle_check_sees_imports_inside_functions() -> None:
    """The two cycles function-level imports hid before (api -> mapping -> engines.core ->
    api; inputs.reader <-> inputs.tables), as they were written then."""
    sources = {
        "pipeline.api": "def map():\n    from pipeline.mapping import map_table\n",
        "pipeline.mapping": "def rows():\n    from pipeline.engines.core import article_record\n",
        "pipeline.engines.core": "from pipeline.api import Pipeline\n",
        "pipeline.inputs.reader": "def read():\n    from pipeline.inputs.tables import TableRow\n",
        "pipeline.inputs.tables": "from pipeline.inputs.reader import InputItem\n",
        "pipeline.types": "if TYPE_CHECKING:\n    from pipeline.api import Pipeline\n",
    }
    assert _cycles(_graph(sources)) == [
        ["pipeline.api", "pipeline.mapping", "pipeline.engines.core", "pipeline.api"],
        ["pipeline.inputs.reader", "pipeline.inputs.tables", "pipeline.inputs.reader"],
    ]


def test_the_check_above_sees_the_package() -> None:
    graph = _package_graph()
    assert "pipeline.generation.backend" in graph["pipeline.generation.model_stage"]
    assert "pipeline.errors" in graph["pipeline.config"]
    assert "pipeline.output.mapping" in graph["pipeline.api"]  # inside Pipeline.map
    assert "pipeline.engines.steps" in graph["pipeline.engines.local"]  # from ... import steps


def test_modules_take_only_the_version_from_the_root() -> None:
    offences = [
        f"{name} imports {', '.join(sorted(_names(node)))} from {ROOT}"
        for name, path in MODULES.items()
        for node in _imports(path, top_level_only=False)
        if isinstance(node, ast.ImportFrom)
        and node.module == ROOT
        and _names(node) != {"__version__"}
    ]
    assert offences == []


# -- one home for names -------------------------------------------------------------------


@pytest.mark.parametrize(
    "file_name", ["run.json", "records.jsonl", "records.parquet", ".id2en.lock", "report.html"]
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
    assert holders == ["pipeline.output.records"]


def test_every_error_carries_the_exit_code_the_cli_documents() -> None:
    from pipeline.cli.main import EPILOG

    codes = {
        errors.ConfigError: 2,
        errors.InputError: 2,
        errors.DecodeError: 2,
        errors.RunRefusedError: 2,
        errors.ModelLoadError: 3,
        errors.ClusterError: 5,
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
