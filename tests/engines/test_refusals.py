"""Batch runs that cannot be fooled: the run folder is bound to its input, odd ids and
links stay contained, and a broken setup stops before the first article (issue 12)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import load_config
from pipeline.engines.fingerprint import differences
from pipeline.engines.local import run_folder
from pipeline.errors import EXIT_MODEL, EXIT_USAGE, InputError, RunRefusedError
from pipeline.inputs.decoding import html_to_text
from pipeline.inputs.reader import discover
from pipeline.output.records import record_path
from pipeline.report.warning_summary import summarize_repeats
from tests.helpers import (
    SENTENCES,
    extractive_config,
    fail_record_writes,
    run_records,
    tiny_config_dict,
    write_files,
)

TWO = {"a.txt": SENTENCES[0], "b.txt": SENTENCES[2]}


# -- 1. the output folder inside the input folder ------------------------------------------


def test_an_output_folder_inside_the_input_is_never_read_back(
    tmp_path: Path, tiny_models: Path
) -> None:
    root = write_files(tmp_path / "in", TWO)
    out = root / "out"
    config = extractive_config(tiny_models)
    assert run_folder(config, root, out).total == 2
    shutil.copytree(out, root / "old-run")  # any id2en output folder, not only this OUT
    for _ in range(2):
        report = run_folder(config, root, out)
        assert (report.total, report.already_done) == (2, 2)
    assert sorted(run_records(out)) == ["a", "b"]


# -- 2. odd ids ----------------------------------------------------------------------------


def test_a_file_id_and_a_folder_id_never_share_a_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert record_path(out, "a") not in record_path(out, "a.json/b").parents
    assert record_path(out, "A") not in record_path(out, "a.JSON/b").parents
    deep = "/".join(["x" * 200] * 40)  # 8,000 bytes: over PATH_MAX
    path = record_path(out, deep)
    assert len(str(path.relative_to(out)).encode()) < 1100
    assert path != record_path(out, deep + "y")


def test_odd_ids_each_get_their_own_record_and_the_run_goes_on(
    tmp_path: Path, tiny_models: Path
) -> None:
    """Point 2: ids "a" and "a.json/b", a folder a.json/ next to a.txt, and ids deeper than
    the file system's limits used to stop the whole run with exit 4, on every retry."""
    deep = "/".join(["d" * 200] * 30)
    rows = [("a", SENTENCES[1]), ("a.json/b", SENTENCES[3]), ("x" * 300, SENTENCES[4])]
    rows.append((deep, SENTENCES[5]))
    files = {
        "a.txt": SENTENCES[0],
        "a.json/b.txt": SENTENCES[2],
        "rows.jsonl": "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows),
    }
    root, out = write_files(tmp_path / "in", files), tmp_path / "out"
    report = run_folder(extractive_config(tiny_models), root, out)
    assert (report.done, report.failed) == (6, 0)
    records = run_records(out)
    expected = {"a", "a.json/b", "rows/a", "rows/a.json/b", "rows/" + "x" * 300, "rows/" + deep}
    assert set(records) == expected
    assert records["rows/" + deep]["text"] == SENTENCES[5]  # the original id kept


def test_a_record_that_cannot_be_written_fails_only_its_article(
    tmp_path: Path, tiny_models: Path
) -> None:
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    record_path(out, "a").mkdir(parents=True)  # something in the way of a's record
    report = run_folder(extractive_config(tiny_models), root, out)
    assert (report.done, report.failed) == (1, 1)
    assert report.failures[0][0] == "a" and report.failures[0][1].startswith("write: ")
    assert set(run_records(out)) == {"b"}


def test_a_full_disk_still_stops_the_run(
    tmp_path: Path, tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"

    fail_record_writes(monkeypatch, errno.ENOSPC)
    with pytest.raises(OSError, match="No space left"):
        run_folder(extractive_config(tiny_models), root, out)


# -- 3. a run is bound to its input --------------------------------------------------------


def test_an_edited_input_is_translated_again_and_the_report_says_so(
    tmp_path: Path, tiny_models: Path
) -> None:
    files = {**TWO, "rows.jsonl": json.dumps({"id": "r", "text": SENTENCES[3]}) + "\n"}
    root, out = write_files(tmp_path / "in", files), tmp_path / "out"
    config = extractive_config(tiny_models)
    run_folder(config, root, out)
    kept = record_path(out, "b").read_bytes()
    (root / "a.txt").write_text(SENTENCES[4], encoding="utf-8")
    (root / "rows.jsonl").write_text(json.dumps({"id": "r", "text": SENTENCES[5]}) + "\n")
    report = run_folder(config, root, out)
    assert (report.done, report.changed, report.already_done) == (2, 2, 1)
    assert "2 done (2 redone: source changed)" in report.line()
    records = run_records(out)
    assert records["a"]["text"] == SENTENCES[4] and records["rows/r"]["text"] == SENTENCES[5]
    assert record_path(out, "b").read_bytes() == kept
    assert run_folder(config, root, out).already_done == 3


def test_another_input_folder_is_refused_unless_forced(tmp_path: Path, tiny_models: Path) -> None:
    first = write_files(tmp_path / "first", TWO)
    other = write_files(tmp_path / "other", {"c.txt": SENTENCES[4]})
    out, config = tmp_path / "out", extractive_config(tiny_models)
    run_folder(config, first, out)
    assert json.loads((out / "run.json").read_text())["input"] == str(first.resolve())
    with pytest.raises(RunRefusedError, match=r"input folder: .*first' -> .*other'"):
        run_folder(config, other, out)
    assert run_folder(config, other, out, force=True).done == 1
    assert sorted(run_records(out)) == ["c"]  # records.jsonl holds this input's articles only


# -- 5 and 6. links out of the input folder; folders that cannot be listed -----------------


def test_links_out_of_the_input_folder_are_reported_not_read(
    tmp_path: Path, tiny_models: Path
) -> None:
    secret = write_files(tmp_path / "secret", {"passwd.txt": "root:x:0:0:root:/root:/bin/bash"})
    root = write_files(tmp_path / "in", TWO)
    (root / "leak.txt").symlink_to(secret / "passwd.txt")
    (root / "elsewhere").symlink_to(secret)
    (root / "inside.txt").symlink_to(root / "a.txt")  # a link within the input is fine
    out = tmp_path / "out"
    report = run_folder(extractive_config(tiny_models), root, out)
    assert (report.done, report.failed) == (3, 2)
    records = run_records(out)
    for article_id in ("leak", "elsewhere"):
        assert records[article_id]["status"] == "failed"
        assert "outside the input folder" in records[article_id]["error"]
        assert "--follow-links" in records[article_id]["error"]
    assert "root:x" not in (out / "records.jsonl").read_text()
    ids = [item.id for item in discover(root, follow_links=True)]
    assert ids == ["a", "b", "elsewhere/passwd", "inside", "leak"]


def test_a_folder_that_cannot_be_listed_is_a_failed_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_files(tmp_path / "in", {"a.txt": SENTENCES[0], "locked/b.txt": SENTENCES[1]})
    real = os.scandir

    def scandir(path: Any) -> Any:  # root may read every folder: simulate chmod 000
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = discover(root)
    assert [item.id for item in items] == ["a", "locked"]
    assert "cannot list the folder" in (items[1].error or "")
    assert "Permission denied" in (items[1].error or "")


# -- 9. setup errors stop the run before any article ---------------------------------------


def _cli_run(tmp_path: Path, data: dict[str, Any], root: Path, out: Path) -> int:
    from pipeline.cli.main import main

    config = tmp_path / "setup.yaml"
    config.write_text(yaml.safe_dump(data))
    return main(["run", str(root), "-o", str(out), "-c", str(config)])


def test_a_broken_model_is_exit_3_before_any_article(
    tmp_path: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marian = tmp_path / "marian"
    shutil.copytree(tiny_models / "marian", marian)
    weights = marian / "model.safetensors"
    os.truncate(weights, weights.stat().st_size // 2)
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    data = tiny_config_dict(tiny_models, translate={"model": str(marian)})
    assert _cli_run(tmp_path, data, root, out) == EXIT_MODEL
    assert "could not load model" in capsys.readouterr().err
    assert not (out / "records").exists() and not (out / "run.json").exists()


def test_a_corrupt_cache_file_is_exit_2_before_any_article(
    tmp_path: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database, only some text " * 100)
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    data = tiny_config_dict(tiny_models, translate={"cache_path": str(cache)})
    assert _cli_run(tmp_path, data, root, out) == EXIT_USAGE
    assert "cannot be used as a translation cache" in capsys.readouterr().err
    assert not (out / "records").exists()


def test_zero_beams_is_exit_2_before_any_article(
    tmp_path: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    data = tiny_config_dict(tiny_models, translate={"extra": {"num_beams": 0}})
    assert _cli_run(tmp_path, data, root, out) == EXIT_USAGE
    assert "translate.num_beams = 0: must be a whole number >= 1" in capsys.readouterr().err
    assert not (out / "records").exists()


# -- 12. smaller ones ----------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_output_files_follow_the_umask(tmp_path: Path, tiny_models: Path, umask: int) -> None:
    root, out = write_files(tmp_path / "in", {"a.txt": SENTENCES[0]}), tmp_path / "out"
    previous = os.umask(umask)
    try:
        run_folder(extractive_config(tiny_models), root, out)
    finally:
        os.umask(previous)
    for path in (out / "run.json", out / "records.jsonl", record_path(out, "a")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_moved_model_folder_is_the_same_model(tmp_path: Path, tiny_models: Path) -> None:
    first = tmp_path / "models-a" / "marian"
    shutil.copytree(tiny_models / "marian", first)
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    run_folder(extractive_config(tiny_models, translate={"model": str(first)}), root, out)
    moved = tmp_path / "models-b" / "marian"
    moved.parent.mkdir()
    first.rename(moved)
    report = run_folder(extractive_config(tiny_models, translate={"model": str(moved)}), root, out)
    assert report.already_done == 2


def test_a_refusal_lists_only_what_changed(tmp_path: Path, tiny_models: Path) -> None:
    root, out = write_files(tmp_path / "in", TWO), tmp_path / "out"
    off = {"stages": {"summarize": None}}
    run_folder(load_config(tiny_config_dict(tiny_models, **off)), root, out)
    changed = tiny_config_dict(tiny_models, translate={"num_beams": 1}, **off)
    with pytest.raises(RunRefusedError) as caught:
        run_folder(load_config(changed), root, out)
    listed = str(caught.value).split("Changed:\n")[1].split("\nUse a new")[0]
    assert listed.strip().splitlines() == ["translate.num_beams: 2 -> 1"]
    assert differences({"summarize": {}, "a": 1}, {"summarize": None, "a": 1}) == []


def test_a_missing_local_model_folder_is_named_as_a_folder(tmp_path: Path) -> None:
    from pipeline.api import Pipeline
    from pipeline.errors import ModelLoadError

    for name in (str(tmp_path / "no" / "marian"), "~/no-such-id2en-model/marian"):
        pipe = Pipeline.from_config(
            {"translate": {"model": name, "local_files_only": True}, "run": {"device": "cpu"}},
            overrides={"stages.summarize": None},
        )
        with pytest.raises(ModelLoadError) as caught:
            pipe.load()
        message = str(caught.value)
        assert "does not exist" in message and "Repo id" not in message
        assert "~" not in message.split("(")[1]  # the home folder was expanded


def test_a_stray_svg_tag_in_text_keeps_the_text_after_it() -> None:
    page = "<p>Satu <b>dua</b> <i>tiga</i></p><p>Empat <em>lima</em></p>"
    text, _ = html_to_text(page + "Saya membeli buku <svg width='2'> di pasar. Mereka pulang.")
    assert text.endswith("Saya membeli buku di pasar. Mereka pulang.")
    closed, _ = html_to_text(page + "Awal <svg><text>ikon</text></svg> akhir.")
    assert "ikon" not in closed and closed.endswith("Awal akhir.")


def test_unsupported_files_are_named_when_nothing_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = write_files(tmp_path / "in", {"a.pdf": "x", "b.pdf": "x", "c.docx": "x", "README": "x"})
    with pytest.raises(InputError, match=r"no articles in .*passed over 4 other files \(2 \.pdf"):
        discover(root)
    assert "passed over 4 files id2en does not read (2 .pdf, 1 .docx, 1 (no suffix))" in (
        caplog.text
    )


def test_repeated_warnings_are_summarised(tmp_path: Path, tiny_models: Path) -> None:
    warnings = [f"sentence {i}: cut at word boundary: {i + 500} chars > 400" for i in range(9)]
    short = summarize_repeats(["first", *warnings, "last"])
    assert short == [
        "first",
        *warnings[:3],
        "... and 6 more warnings like: sentence N: cut at word boundary: N chars > N",
        "last",
    ]
    root, out = tmp_path / "in", tmp_path / "out"
    write_files(root, {"long.txt": "kata " * 4000})  # no punctuation at all
    config = extractive_config(
        tiny_models, translate={"max_new_tokens": 2}, split={"max_chars": 40}
    )
    run_folder(config, root, out)
    record = run_records(out)["long"]
    assert len(record["sentences"]) > 400  # hundreds of cuts, each warned about before
    summaries = [w for w in record["warnings"] if "more warnings like" in w]
    assert summaries and len(record["warnings"]) == 4 * len(summaries)
