"""The quickstart notebook: committed without outputs, and runs top to bottom offline.

Also the progress-bar policy, which exists so bars render in notebooks and stay out of logs.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import progress

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"
KERNEL_NAME = "id2en-test"
# Short generations keep random-weight models fast; the code paths are the same.
TINY_OVERRIDES = {
    "run.device": "cpu",
    "translate.num_beams": 2,
    "translate.max_new_tokens": 12,
    "summarize.num_beams": 2,
    "summarize.max_new_tokens": 16,
    "guards.retry": False,
}


def _code_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_committed_notebook_is_valid_and_stripped() -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert cells, "the notebook has no code cells"
    for number, cell in enumerate(cells):
        assert cell.get("outputs") == [], f"code cell {number} has outputs committed"
        assert cell.get("execution_count") is None, f"code cell {number} has an execution count"
    assert "parameters" in cells[0].metadata.get("tags", []), "first code cell must be parameters"
    assert "widgets" not in nb.metadata


def test_parameters_default_to_real_models() -> None:
    nbformat = pytest.importorskip("nbformat")
    source = _code_cells(nbformat.read(NOTEBOOK, as_version=4))[0].source
    assert 'TRANSLATE_MODEL = "Helsinki-NLP/opus-mt-id-en"' in source
    assert 'SUMMARIZE_MODEL = "sshleifer/distilbart-cnn-12-6"' in source


def _kernel_spec_dir(root: Path) -> Path:
    """A kernel spec for this very interpreter, so the kernel sees the same install."""
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "id2en test",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


def _outputs(nb: Any, kind: str) -> list[str]:
    """Every output of a MIME type across the executed notebook."""
    return [o.data[kind] for c in _code_cells(nb) for o in c.outputs if kind in o.get("data", {})]


def _stdout(nb: Any) -> str:
    """All the notebook printed, as one text.

    Joined with no separator: the kernel may split one print into several stream outputs when
    a progress bar writes to stderr between its pieces ("mapped:" | " [...]").
    """
    return "".join(
        o.text
        for c in _code_cells(nb)
        for o in c.outputs
        if o.output_type == "stream" and o.name == "stdout"
    )


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_with_tiny_models(
    tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(_kernel_spec_dir(tmp_path / "jupyter")))
    monkeypatch.setenv("ID2EN_NOTEBOOK_MODELS", str(tiny_models))
    monkeypatch.setenv("ID2EN_NOTEBOOK_OVERRIDES", json.dumps(TINY_OVERRIDES))
    monkeypatch.setenv("ID2EN_NOTEBOOK_WORKDIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # prove it runs without the network

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    try:
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        nbformat.write(nb, tmp_path / "executed.ipynb")  # to read when it fails

    errors = [o for c in _code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors
    html_outputs = "\n".join(_outputs(nb, "text/html"))
    assert "<th>Indonesian</th>" in html_outputs  # the Article side-by-side table
    stdout = _stdout(nb)
    assert "Parquet and JSONL agree" in stdout
    assert "cut at clause boundary" in html_outputs  # the warnings table shows the long sentence
    [out_dir] = tmp_path.glob("id2en-quickstart-*/out")
    assert (out_dir / "records.parquet").is_file()
    assert (out_dir / "report.html").is_file()
    assert "&lt;svg role=" in html_outputs  # the report's charts, inline in an iframe
    assert "2 done, 1 failed, 0 already done of 3 articles" in stdout  # the Parquet run
    assert "mapped: " in stdout  # Pipeline.map
    [table_out] = tmp_path.glob("id2en-quickstart-*/out-table")
    assert (table_out / "records" / "taman-baca.json").is_file()


# -- progress bars ------------------------------------------------------------------------


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("mode", "stdout_tty", "stderr_tty", "expected"),
    [
        ("never", True, True, False),
        ("always", False, False, True),
        ("auto", True, True, True),
        ("auto", False, True, False),  # `id2en run ... > log`: keep the log clean
        ("auto", True, False, False),
        ("auto", False, False, False),  # CI
    ],
)
def test_progress_policy(
    monkeypatch: pytest.MonkeyPatch,
    mode: progress.ProgressMode,
    stdout_tty: bool,
    stderr_tty: bool,
    expected: bool,
) -> None:
    monkeypatch.setattr(sys, "stdout", _Stream(stdout_tty))
    monkeypatch.setattr(sys, "stderr", _Stream(stderr_tty))
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    assert progress.progress_enabled(mode) is expected


def test_progress_auto_shows_in_notebooks(monkeypatch: pytest.MonkeyPatch) -> None:
    # A kernel's streams are not TTYs, yet a bar there is what the user wants to see.
    monkeypatch.setattr(sys, "stdout", _Stream(False))
    monkeypatch.setattr(sys, "stderr", _Stream(False))
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert progress.progress_enabled("auto") is True


def test_disabled_bar_writes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Stream(False)
    monkeypatch.setattr(sys, "stderr", err)
    bar = progress.progress_bar(total=3, mode="auto", unit="article")
    bar.update(3)
    bar.close()
    assert err.getvalue() == ""


def test_forced_bar_writes_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    err = _Stream(False)
    monkeypatch.setattr(sys, "stderr", err)
    with progress.progress_bar(total=2, mode="always", unit="article", file=err) as bar:
        bar.update(2)
    assert "2/2" in err.getvalue()


def test_not_in_notebook_under_pytest() -> None:
    assert progress.in_notebook() is False
