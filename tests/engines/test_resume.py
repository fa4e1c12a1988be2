"""Kills, signals, locks and setting changes: a run never loses or mixes records."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.api import Pipeline
from pipeline.cli.main import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, main
from pipeline.config import load_config
from pipeline.engines.fingerprint import config_fingerprint
from pipeline.engines.local import run_folder
from pipeline.engines.run_lock import run_lock
from pipeline.errors import RunRefusedError
from pipeline.output.atomic import atomic_open
from pipeline.output.dataset import iter_run_records, load_records
from pipeline.output.records import iter_records
from pipeline.report.page import RunStats, render_report
from tests.helpers import extractive_config, run_records, tiny_config_dict
from tests.support.corpus import builtin_pairs

REPO = Path(__file__).resolve().parents[2]


def _corpus(root: Path, count: int, seed: int = 1) -> Path:
    """Short Indonesian articles of 3 to 8 sentences, the same for a given seed."""
    sentences = [pair[0] for pair in builtin_pairs(400)]
    rng = random.Random(seed)
    root.mkdir(parents=True)
    for number in range(count):
        picked = [rng.choice(sentences) for _ in range(rng.randint(3, 8))]
        (root / f"a{number:02d}.txt").write_text(" ".join(picked), encoding="utf-8")
    return root


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what legitimately differs between two runs: timings, and scores
    (a sentence translated in another batch scores the same only up to float rounding;
    _scores compares them within a tolerance)."""
    meta = {k: v for k, v in record["meta"].items() if k != "timings"}
    sentences = [{k: v for k, v in s.items() if k != "score"} for s in record["sentences"]]
    return {**record, "meta": meta, "sentences": sentences}


def _scores(out: Path) -> list[float | None]:
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    return [s.get("score") for line in lines for s in json.loads(line)["sentences"]]


def _records(out: Path) -> list[dict[str, Any]]:
    return [_stable(record) for record in run_records(out).values()]


def _record_files(out: Path) -> list[Path]:
    return sorted((out / "records").glob("*.json")) if (out / "records").is_dir() else []


# -- SIGKILL at random moments -------------------------------------------------------------


def _cli(config: Path, root: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipeline.cli",
        "run",
        str(root),
        "-o",
        str(out),
        "-c",
        str(config),
    ]


def _kill_at_random(command: list[str], out: Path, rng: random.Random) -> bool:
    """Start a run and SIGKILL it at a random moment; False if it finished first."""
    before = len(_record_files(out))
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Most kills land a few records in (mid-batch, mid-write, between records); some land
    # anywhere in start-up (imports, lock, manifest, model loading).
    wanted = before + rng.randint(1, 3) if rng.random() < 0.75 else None
    deadline = time.monotonic() + (90 if wanted else rng.uniform(0.2, 4.0))
    while time.monotonic() < deadline and process.poll() is None:
        if wanted is not None and len(_record_files(out)) >= wanted:
            time.sleep(rng.uniform(0.0, 0.1))
            break
        time.sleep(0.005)
    if process.poll() is not None:
        process.communicate()
        return False
    process.kill()
    process.communicate()
    return True


@pytest.mark.slow
def test_killed_runs_resume_to_exactly_the_uninterrupted_records(
    tmp_path: Path, tiny_models: Path
) -> None:
    root = _corpus(tmp_path / "in", 16)
    # Several articles per batch: which sentences share a padded batch changes the sums a
    # model makes, so a resume must pool exactly the articles an uninterrupted run pools.
    data = tiny_config_dict(tiny_models, run={"batch_articles": 3, "threads": 1})
    data["stages"] = {"summarize": "summarize.extractive"}
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(data))
    reference = tmp_path / "reference"
    run_folder(load_config(config), root, reference)  # in-process: saves a start-up

    out, rng, kills = tmp_path / "out", random.Random(20240611), 0
    for _ in range(4):
        if not _kill_at_random(_cli(config, root, out), out, rng):
            break
        kills += 1
        for path in _record_files(out):  # whatever moment the kill hit, no partial record
            assert json.loads(path.read_text(encoding="utf-8"))["status"] == "ok"
    assert kills >= 3
    final = subprocess.run(_cli(config, root, out), cwd=REPO, timeout=120, capture_output=True)
    assert final.returncode == EXIT_OK, final.stderr.decode()

    assert _records(out) == _records(reference)
    resumed, uninterrupted = _scores(out), _scores(reference)
    assert [x is None for x in resumed] == [x is None for x in uninterrupted]
    assert [x for x in resumed if x is not None] == pytest.approx(
        [x for x in uninterrupted if x is not None], abs=1e-4
    )
    assert [p.name for p in _record_files(out)] == [p.name for p in _record_files(reference)]
    assert not list(out.rglob("*.tmp"))  # leftovers of the kills are cleaned up
    assert "finished" in json.loads((out / "run.json").read_text())


def test_a_resume_pools_the_same_articles_as_an_uninterrupted_run(
    tmp_path: Path, tiny_models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch composition is a function of the input alone: a group that a kill left half
    written is redone whole, and only its missing records are written."""
    root = _corpus(tmp_path / "in", 10)
    config = extractive_config(tiny_models, run={"batch_articles": 4})
    batches: list[list[str]] = []
    real = Pipeline.process

    def spy(self: Pipeline, articles: list[Any]) -> list[Any]:
        batches.append([article.id for article in articles])
        return real(self, articles)

    monkeypatch.setattr(Pipeline, "process", spy)
    reference = tmp_path / "reference"
    run_folder(config, root, reference)
    groups = list(batches)
    assert groups == [["a00", "a01", "a02", "a03"], ["a04", "a05", "a06", "a07"], ["a08", "a09"]]

    out = tmp_path / "out"
    shutil.copytree(reference, out)
    for article_id in ("a05", "a06", "a09"):  # as a kill between two record writes leaves
        (out / "records" / f"{article_id}.json").unlink()
    kept = (out / "records" / "a04.json").stat().st_mtime_ns
    batches.clear()
    report = run_folder(config, root, out)
    assert batches == [groups[1], groups[2]]
    assert (report.done, report.already_done) == (3, 7)
    assert (out / "records" / "a04.json").stat().st_mtime_ns == kept  # not rewritten
    assert _records(out) == _records(reference)


# -- signals -------------------------------------------------------------------------------


def _signal_after_first_batch(monkeypatch: pytest.MonkeyPatch, signum: int) -> None:
    """The signal arrives while the first batch is being processed, as Ctrl-C would."""
    real = Pipeline.process
    calls = {"n": 0}

    def process(self: Pipeline, articles: list[Any]) -> list[Any]:
        done = real(self, articles)
        calls["n"] += 1
        if calls["n"] == 1:
            os.kill(os.getpid(), signum)
        return done

    monkeypatch.setattr(Pipeline, "process", process)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_after_the_current_batch_and_says_how_to_resume(
    tmp_path: Path,
    tiny_models: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    signum: int,
) -> None:
    root, out = _corpus(tmp_path / "in", 6), tmp_path / "out"
    config = extractive_config(tiny_models, run={"batch_articles": 2})
    _signal_after_first_batch(monkeypatch, signum)
    handler = signal.getsignal(signum)
    report = run_folder(config, root, out)
    assert report.interrupted and report.done == 2
    assert len(_record_files(out)) == 2
    assert f"{signal.Signals(signum).name}: stopping after the current batch" in caplog.text
    assert f"run the same command again with -o {out}" in caplog.text
    assert "interrupted" in json.loads((out / "run.json").read_text())
    assert signal.getsignal(signum) is handler  # restored after the run

    monkeypatch.undo()
    resumed = run_folder(config, root, out)
    assert (resumed.done, resumed.already_done, resumed.interrupted) == (4, 2, False)
    assert len(_records(out)) == 6


def test_cli_exits_130_with_a_resume_hint(
    tmp_path: Path,
    tiny_models: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, out = _corpus(tmp_path / "in", 4), tmp_path / "out"
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(tiny_config_dict(tiny_models, run={"batch_articles": 1})))
    _signal_after_first_batch(monkeypatch, signal.SIGTERM)
    code = main(["run", str(root), "-o", str(out), "-c", str(config)])
    assert code == EXIT_INTERRUPTED
    captured = capsys.readouterr()
    assert captured.out.startswith("interrupted: 1 done")
    assert f"run the same command again to resume into {out}" in captured.err


# -- one run per folder --------------------------------------------------------------------


def test_second_run_on_the_same_folder_refuses(tmp_path: Path, tiny_models: Path) -> None:
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    with run_lock(out), pytest.raises(RunRefusedError) as caught:
        run_folder(extractive_config(tiny_models), root, out)
    message = str(caught.value)
    assert f"another id2en run (pid {os.getpid()} on " in message
    assert f"is writing to {out}; wait for it to finish or choose another" in message
    assert not _record_files(out)
    assert run_folder(extractive_config(tiny_models), root, out).done == 2  # the lock is free again


def test_second_run_refusal_is_a_usage_exit(
    tmp_path: Path, tiny_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, out = _corpus(tmp_path / "in", 1), tmp_path / "out"
    with run_lock(out):
        assert main(["run", str(root), "-o", str(out)]) == EXIT_USAGE
    assert "another id2en run" in capsys.readouterr().err


# -- settings and models changed between a run and its resume ------------------------------


def test_changed_settings_are_named_and_refused_unless_forced(
    tmp_path: Path, tiny_models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    run_folder(extractive_config(tiny_models), root, out)
    changed = extractive_config(
        tiny_models, translate={"num_beams": 1}, run={"non_indonesian": "skip"}
    )
    with pytest.raises(RunRefusedError) as caught:
        run_folder(changed, root, out)
    message = str(caught.value)
    assert "holds records made with different settings, models or input" in message
    assert "run.non_indonesian: 'translate' -> 'skip'" in message
    assert "translate.num_beams: 2 -> 1" in message
    assert "or --force to continue anyway" in message

    report = run_folder(changed, root, out, force=True)
    assert report.already_done == 2
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["forced"][0]["changes"] == [
        "run.non_indonesian: 'translate' -> 'skip'",
        "translate.num_beams: 2 -> 1",
    ]
    assert "--force: continuing" in caplog.text
    # Nothing was made with the forced settings: the folder's settings stay the original.
    assert manifest["settings"]["translate"]["num_beams"] == 2
    assert run_folder(extractive_config(tiny_models), root, out).already_done == 2


def test_a_forced_run_that_processes_nothing_keeps_the_folders_settings(
    tmp_path: Path, tiny_models: Path
) -> None:
    """Point 4: --force with nothing to do used to rewrite run.json's settings, after which
    a run with the original settings was refused."""
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    original = extractive_config(tiny_models)
    run_folder(original, root, out)
    changed = extractive_config(tiny_models, translate={"num_beams": 1})
    assert run_folder(changed, root, out, force=True).already_done == 2
    assert run_folder(original, root, out).already_done == 2  # not refused
    (root / "new.txt").write_text("Banjir merendam rumah warga di Bandung.", encoding="utf-8")
    assert run_folder(changed, root, out, force=True).done == 1
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["settings"]["translate"]["num_beams"] == 1  # records made with it now


def test_speed_and_device_settings_may_change_between_runs(
    tmp_path: Path, tiny_models: Path
) -> None:
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    run_folder(extractive_config(tiny_models), root, out)
    faster = extractive_config(
        tiny_models,
        run={"batch_articles": 7, "threads": 1, "progress": "never"},
        translate={"max_batch_tokens": 512, "max_batch_sentences": 3},
    )
    assert run_folder(faster, root, out).already_done == 2


def test_settings_of_a_stage_that_is_off_do_not_count(tmp_path: Path, tiny_models: Path) -> None:
    root, out = _corpus(tmp_path / "in", 1), tmp_path / "out"
    off = {"stages": {"summarize": None}}
    run_folder(load_config(tiny_config_dict(tiny_models, **off)), root, out)
    other = tiny_config_dict(tiny_models, summarize={"num_beams": 5}, **off)
    assert run_folder(load_config(other), root, out).already_done == 1


def test_a_changed_model_folder_is_detected(tmp_path: Path, tiny_models: Path) -> None:
    marian = tmp_path / "marian"
    shutil.copytree(tiny_models / "marian", marian)
    root, out = _corpus(tmp_path / "in", 1), tmp_path / "out"
    config = extractive_config(tiny_models, translate={"model": str(marian)})
    run_folder(config, root, out)
    generation = json.loads((marian / "generation_config.json").read_text())
    generation["max_length"] = 77
    (marian / "generation_config.json").write_text(json.dumps(generation))
    with pytest.raises(
        RunRefusedError, match=r"translate\.resolved: 'sha256:[0-9a-f]+' -> 'sha256:"
    ):
        run_folder(config, root, out)


def test_an_edited_glossary_is_a_change_and_a_moved_one_is_not(
    tmp_path: Path, tiny_models: Path
) -> None:
    """The glossary used to count by its path: a line appended to it gave "0 done, 1
    already done", the record keeping English made without the new term."""
    root, out = _corpus(tmp_path / "in", 1), tmp_path / "out"
    terms = tmp_path / "terms.tsv"
    terms.write_text("Jakarta\tJakarta\n", encoding="utf-8")
    config = extractive_config(tiny_models, translate={"glossary": str(terms)})
    run_folder(config, root, out)
    with terms.open("a", encoding="utf-8") as handle:
        handle.write("pasar\tmarket\n")
    with pytest.raises(
        RunRefusedError,
        match=r"translate\.glossary: 'sha256:[0-9a-f]{16}' -> 'sha256:[0-9a-f]{16}'",
    ):
        run_folder(config, root, out)
    assert run_folder(config, root, out, force=True).already_done == 1
    # Nothing was made with the new content, so the folder keeps the first one: the same
    # content under another path is no change.
    moved = tmp_path / "elsewhere.tsv"
    moved.write_text("Jakarta\tJakarta\n", encoding="utf-8")
    again = extractive_config(tiny_models, translate={"glossary": str(moved)})
    assert run_folder(again, root, out).already_done == 1


def test_the_shortlist_counts_by_content(tmp_path: Path, tiny_models: Path) -> None:
    shortlist = tmp_path / "s.vmap"
    shortlist.write_text("\t▁the\n", encoding="utf-8")
    config = extractive_config(tiny_models, translate={"shortlist": str(shortlist)})
    before, settings = config_fingerprint(config)
    assert settings["translate"]["shortlist"].startswith("sha256:")
    shutil.copy(shortlist, tmp_path / "copy.vmap")
    copied = extractive_config(tiny_models, translate={"shortlist": str(tmp_path / "copy.vmap")})
    assert config_fingerprint(copied)[0] == before
    shortlist.write_text("\t▁the\nrumah\t▁house\n", encoding="utf-8")
    assert config_fingerprint(config)[0] != before


# -- what a resume redoes ------------------------------------------------------------------


def test_resume_retries_failures_and_keeps_finished_records(
    tmp_path: Path, tiny_models: Path
) -> None:
    root, out = _corpus(tmp_path / "in", 3), tmp_path / "out"
    (root / "later.txt").write_text("")
    config = extractive_config(tiny_models)
    first = run_folder(config, root, out)
    assert (first.done, first.failed) == (3, 1)
    kept = (out / "records" / "a00.json").read_bytes()
    (root / "later.txt").write_text("Banjir merendam rumah warga di Bandung.")
    second = run_folder(config, root, out)
    assert (second.done, second.failed, second.already_done) == (1, 0, 3)
    assert (out / "records" / "a00.json").read_bytes() == kept
    assert [r["status"] for r in _records(out)] == ["ok"] * 4


def test_skipped_articles_stay_skipped_until_the_policy_changes(
    tmp_path: Path, tiny_models: Path
) -> None:
    root, out = tmp_path / "in", tmp_path / "out"
    root.mkdir()
    (root / "en.txt").write_text(
        "The president opened a new bridge in Jakarta on Monday, and residents said that "
        "they had waited for it for a very long time because the river was wide."
    )
    skip = extractive_config(tiny_models, run={"non_indonesian": "skip"})
    assert run_folder(skip, root, out).not_indonesian == 1
    assert run_folder(skip, root, out).already_done == 1
    translate = extractive_config(tiny_models, run={"non_indonesian": "translate"})
    report = run_folder(translate, root, out, force=True)
    assert report.done == 1 and _records(out)[0]["status"] == "ok"


def test_rows_inserted_above_are_translated_and_no_record_is_misattributed(
    tmp_path: Path, tiny_models: Path
) -> None:
    """An id-less table's ids are row numbers: a row inserted at the top used to give
    "1 done, 3 already done", row 1's record holding "Satu." and "BARU." never translated."""
    table, out = tmp_path / "noid.csv", tmp_path / "out"
    table.write_text("text\nSatu.\nDua.\nTiga.\n", encoding="utf-8")
    config = extractive_config(tiny_models)
    assert run_folder(config, table, out).done == 3
    table.write_text("text\nBARU.\nSatu.\nDua.\nTiga.\n", encoding="utf-8")
    report = run_folder(config, table, out)
    assert (report.done, report.changed, report.already_done) == (4, 3, 0)
    texts = {article_id: record["text"] for article_id, record in run_records(out).items()}
    assert texts == {"1": "BARU.", "2": "Satu.", "3": "Dua.", "4": "Tiga."}
    assert run_folder(config, table, out).already_done == 4


def test_an_edited_row_with_an_id_is_redone(tmp_path: Path, tiny_models: Path) -> None:
    table, out = tmp_path / "t.csv", tmp_path / "out"
    table.write_text("id,text\na,Harga beras naik.\nb,Warga senang.\n", encoding="utf-8")
    config = extractive_config(tiny_models)
    run_folder(config, table, out)
    kept = (out / "records" / "a.json").read_bytes()
    assert json.loads(kept)["meta"]["source_sha256"] is not None
    table.write_text("id,text\na,Harga beras naik.\nb,Presiden datang.\n", encoding="utf-8")
    report = run_folder(config, table, out)
    assert (report.done, report.changed, report.already_done) == (1, 1, 1)
    assert run_records(out)["b"]["text"] == "Presiden datang."
    assert (out / "records" / "a.json").read_bytes() == kept


def test_leftover_temporary_files_are_removed(tmp_path: Path, tiny_models: Path) -> None:
    root, out = _corpus(tmp_path / "in", 1), tmp_path / "out"
    (out / "records").mkdir(parents=True)
    (out / "records" / ".a00.json.x1y2.tmp").write_text('{"id": "a00", "sta')
    (out / ".records.jsonl.z9.tmp").write_text("")
    assert run_folder(extractive_config(tiny_models), root, out).done == 1
    assert not list(out.rglob("*.tmp"))


def test_records_jsonl_holds_only_this_input_folders_articles(
    tmp_path: Path, tiny_models: Path
) -> None:
    root, out = _corpus(tmp_path / "in", 3), tmp_path / "out"
    run_folder(extractive_config(tiny_models), root, out)
    (root / "a01.txt").unlink()
    run_folder(extractive_config(tiny_models), root, out)
    assert [r["id"] for r in _records(out)] == ["a00", "a02"]
    assert not (out / "records" / "a01.json").exists()
    assert (out / "records-of-inputs-gone" / "a01.json").exists()  # kept, set aside


def _every_output(out: Path) -> dict[str, list[str]]:
    """The article ids each output of a run describes."""
    page = render_report(out)
    return {
        "records/": sorted(r["id"] for r in iter_records(out)),
        "records.jsonl": list(run_records(out)),
        "records.parquet": sorted(load_records(out, source="parquet")["id"]),
        "report": sorted(
            re.findall(r"<h2><span class='badge [^']*'>[^<]*</span> ([^<]+)</h2>", page)
        ),
    }


def test_every_output_drops_the_records_of_inputs_that_are_gone(
    tmp_path: Path, tiny_models: Path
) -> None:
    """The report used to read records/ whole: a deleted article stayed on the page and
    its failure was still counted."""
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    (root / "broken.txt").write_text("")
    config = extractive_config(tiny_models, run={"formats": ["jsonl", "parquet"]})
    assert run_folder(config, root, out).failed == 1
    assert _every_output(out)["report"] == ["a00", "a01", "broken"]
    (root / "broken.txt").unlink()
    (root / "a01.txt").rename(root / "b01.txt")
    report = run_folder(config, root, out)
    assert (report.total, report.done, report.failed, report.already_done) == (2, 1, 0, 1)
    outputs = _every_output(out)
    assert all(ids == ["a00", "b01"] for ids in outputs.values()), outputs
    stats = RunStats.collect(
        list(iter_run_records(out)), json.loads((out / "run.json").read_text())
    )
    assert (stats.articles, stats.failed) == (2, 0)
    gone = out / "records-of-inputs-gone"
    assert sorted(p.name for p in gone.iterdir()) == ["a01.json", "broken.json"]


def test_a_fixed_csv_rows_error_record_goes_from_every_output(
    tmp_path: Path, tiny_models: Path
) -> None:
    table, out = tmp_path / "t.csv", tmp_path / "out"
    table.write_text('id,text\na,Harga naik.\nb,"Warga senang.\n', encoding="utf-8")
    config = extractive_config(tiny_models, run={"formats": ["jsonl", "parquet"]})
    assert run_folder(config, table, out).failed == 1
    assert _every_output(out)["records.jsonl"] == ["a", "rows-from-2"]
    table.write_text('id,text\na,Harga naik.\nb,"Warga senang."\n', encoding="utf-8")
    assert run_folder(config, table, out).failed == 0
    outputs = _every_output(out)
    assert all(ids == ["a", "b"] for ids in outputs.values()), outputs


def test_atomic_open_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half a reco")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_folder_from_an_older_release_resumes(tmp_path: Path, tiny_models: Path) -> None:
    """run.json written by id2en 0.1: the stage under its old name, and without settings
    that came later (left at their defaults now). Neither is a change."""
    root, out = _corpus(tmp_path / "in", 2), tmp_path / "out"
    run_folder(extractive_config(tiny_models), root, out)
    manifest = json.loads((out / "run.json").read_text())
    manifest["settings"]["stages"]["translate"] = "translate.marian"
    del manifest["settings"]["translate"]["quantize"]  # as if it were newer than the folder
    (out / "run.json").write_text(json.dumps(manifest))
    assert run_folder(extractive_config(tiny_models), root, out).already_done == 2
    # A setting that is new *and* set away from its default is a change, named as such.
    manifest["settings"]["translate"].pop("num_beams")
    (out / "run.json").write_text(json.dumps(manifest))
    with pytest.raises(RunRefusedError, match=r"translate\.num_beams: \S+ -> 2"):
        run_folder(extractive_config(tiny_models), root, out)
