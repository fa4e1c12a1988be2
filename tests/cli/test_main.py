"""`id2en run` end to end on tiny models: records, offsets, order, determinism, resume."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.cli.main import EXIT_OK, EXIT_USAGE, build_parser, main
from pipeline.errors import EXIT_MODEL
from tests.helpers import fail_record_writes, run_records, tiny_config_dict, without_meta

ARTICLES = {
    "a.txt": "Presiden meresmikan jembatan baru di Jakarta. Jembatan itu panjang.\n\n"
    "Warga menyambut baik pembangunan tersebut.",
    "news/2024/b.txt": "Hujan deras mengguyur Bandung sejak pagi. Banjir merendam rumah warga.",
    "news/c.md": "Harga beras naik lagi di pasar tradisional.",
    "rows.jsonl": json.dumps({"id": "r1", "text": "Petani panen raya."})
    + "\n"
    + json.dumps({"id": "r2", "text": "Sekolah libur selama seminggu. Siswa senang."})
    + "\n",
}
EXPECTED_IDS = ["a", "news/2024/b", "news/c", "rows/r1", "rows/r2"]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    for name, text in ARTICLES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture()
def config_file(tmp_path: Path, tiny_models: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_models)))
    return path


def test_run_writes_one_valid_record_per_article(
    folder: Path, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["run", str(folder), "-o", str(out), "-c", str(config_file)]) == EXIT_OK
    assert "5 done, 0 failed, 0 already done" in capsys.readouterr().out
    records = run_records(out)
    assert sorted(records) == EXPECTED_IDS
    for record in records.values():
        assert record["status"] == "ok" and record["error"] is None
        assert record["sentences"] and all(s["en"] is not None for s in record["sentences"])
        assert isinstance(record["summary"], str)
        assert record["meta"]["models"]["translate"]["model"].endswith("marian")
        for s in record["sentences"]:
            assert " ".join(record["text"][s["start"] : s["end"]].split()) == s["text"]
    source = records["a"]
    assert [s["text"] for s in source["sentences"]] == [
        "Presiden meresmikan jembatan baru di Jakarta.",
        "Jembatan itu panjang.",
        "Warga menyambut baik pembangunan tersebut.",
    ]
    assert source["source"].endswith("a.txt")
    assert (out / "records" / "news" / "2024" / "b.json").exists()


def test_two_runs_are_identical(folder: Path, config_file: Path, tmp_path: Path) -> None:
    for name in ("one", "two"):
        assert main(["run", str(folder), "-o", str(tmp_path / name), "-c", str(config_file)]) == 0
    one, two = run_records(tmp_path / "one"), run_records(tmp_path / "two")
    assert {k: without_meta(v) for k, v in one.items()} == {
        k: without_meta(v) for k, v in two.items()
    }


def test_rerun_skips_finished_articles(
    folder: Path, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    main(["run", str(folder), "-o", str(out), "-c", str(config_file)])
    first = run_records(out)
    (folder / "news" / "d.txt").write_text("Kereta cepat mulai beroperasi.", encoding="utf-8")
    capsys.readouterr()
    assert main(["run", str(folder), "-o", str(out), "-c", str(config_file)]) == EXIT_OK
    assert "1 done, 0 failed, 5 already done" in capsys.readouterr().out
    second = run_records(out)
    assert sorted(second) == sorted([*EXPECTED_IDS, "news/d"])
    assert all(second[k] == first[k] for k in first)  # untouched, timings included


def test_overrides_on_the_command_line(folder: Path, config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(folder), "-o", str(out), "-c", str(config_file)]
    assert main([*args, "--set", "stages.summarize=null"]) == EXIT_OK
    assert all(r["summary"] is None for r in run_records(out).values())


def test_missing_input_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_missing_model_exits_with_model_error(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            str(folder),
            "-o",
            str(tmp_path / "o"),
            "--set",
            f"translate.model={tmp_path / 'missing'}",
            "--set",
            "translate.local_files_only=true",
        ]
    )
    assert code == EXIT_MODEL
    assert "id2en models download" in capsys.readouterr().err


def test_bad_override_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--set", "translate.beams=2"]) == EXIT_USAGE
    assert "did you mean 'num_beams'" in capsys.readouterr().err


def test_config_show_prints_resolved_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--set", "translate.num_beams=2"]) == EXIT_OK
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["translate"]["num_beams"] == 2
    assert shown["translate"]["model"] == "Helsinki-NLP/opus-mt-id-en"


def test_translate_command_prints_pairs(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["translate", "-c", str(config_file), "Satu dua.", "Tiga empat."]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Satu dua.\n  -> " in out and "Tiga empat.\n  -> " in out


def _help(command: list[str]) -> str:
    """What `id2en COMMAND --help` prints."""
    out = io.StringIO()
    with pytest.raises(SystemExit), contextlib.redirect_stdout(out):
        build_parser().parse_args([*command, "--help"])
    return out.getvalue()


def _arguments(help_text: str) -> tuple[list[list[str]], list[str]]:
    """The (invocation, help) of each argument a help text lists, and its subcommands."""
    entries: list[list[str]] = []
    commands: list[str] = []
    listed = False
    for line in help_text.splitlines():
        if line and not line.startswith(" "):  # a section heading, the usage, the epilog
            listed = line in {"positional arguments:", "options:", "optional arguments:"}
        elif listed and re.match(r"  \S", line):  # an argument, maybe with its help beside
            invocation, _, rest = line.strip().partition("  ")
            entries.append([invocation, rest.strip()])
        elif listed and (found := re.match(r"    ([a-z][\w-]*)(?:  |$)", line)):
            if not commands:
                entries.pop()  # COMMAND (or ACTION) is the list of subcommands below it
            commands.append(found.group(1))
        elif listed and entries and line.strip():
            entries[-1][1] += " " + line.strip()  # the help on the lines below
    return entries, commands


def test_every_subcommand_has_help_for_every_option() -> None:
    stack: list[list[str]] = [[]]
    seen, subcommands = 0, 0
    while stack:
        command = stack.pop()
        entries, commands = _arguments(_help(command))
        stack.extend([*command, name] for name in commands)
        subcommands += len(commands)
        for invocation, text in entries:
            if invocation != "-h, --help":
                assert text, f"id2en {' '.join(command)}: option {invocation} has no help text"
                seen += 1
    assert subcommands > 5 and seen > 15


def test_format_flag_adds_parquet_beside_jsonl(
    folder: Path, config_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = ["run", str(folder), "-o", str(out), "-c", str(config_file)]
    assert main([*args, "--format", "jsonl", "--format", "parquet"]) == EXIT_OK
    import pyarrow.parquet as pq

    table = pq.read_table(out / "records.parquet")
    assert sorted(table.column("id").to_pylist()) == EXPECTED_IDS
    assert sorted(run_records(out)) == EXPECTED_IDS


def test_disk_errors_exit_4_with_a_resume_hint(
    folder: Path,
    config_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fail_record_writes(monkeypatch, errno.ENOSPC)
    code = main(["run", str(folder), "-o", str(tmp_path / "out"), "-c", str(config_file)])
    assert code == 4
    err = capsys.readouterr().err
    assert "No space left on device" in err and "run the same command again" in err


def test_shortlist_from_a_run_lists_the_pieces_the_model_produced(
    folder: Path, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.config import load_config
    from pipeline.generation.models import load_tokenizer
    from pipeline.translate.shortlist import Shortlist

    out = tmp_path / "out"
    assert main(["run", str(folder), "-o", str(out), "-c", str(config_file)]) == EXIT_OK
    records = run_records(out)
    assert all(
        r["meta"]["models"]["translate"]["backend"] == "torch/float32/none"
        for r in records.values()
    )
    listed = tmp_path / "shortlist.tsv"
    args = ["shortlist", str(listed), "--from-run", str(out), "-c", str(config_file)]
    assert main([*args, "--frequent", "3", "--per-source", "5"]) == EXIT_OK
    assert "sentence pairs" in capsys.readouterr().out
    lines = listed.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("\t") and len(lines[0].split("\t")[1].split()) == 3
    assert all(len(line.split("\t")[1].split()) <= 5 for line in lines[1:])

    # Every English piece the model produced for a sentence is a candidate for it.
    tokenizer = load_tokenizer(load_config(config_file).translate)
    shortlist = Shortlist.load(listed)
    for record in records.values():
        for sentence in record["sentences"]:
            source = tokenizer.tokenize(sentence["text"])
            produced = tokenizer.convert_ids_to_tokens(
                tokenizer(text_target=sentence["en"], add_special_tokens=False)["input_ids"]
            )
            assert set(produced) <= shortlist.candidates([source]) or len(set(produced)) > 5

    # The file works as translate.shortlist, and records say so.
    again = tmp_path / "again"
    run = ["run", str(folder), "-o", str(again), "-c", str(config_file)]
    assert main([*run, "--set", f"translate.shortlist={listed}"]) == EXIT_OK
    backends = {r["meta"]["models"]["translate"]["backend"] for r in run_records(again).values()}
    assert len(backends) == 1 and "shortlist" in backends.pop()
    # ...and a shortlist is not built from shortlisted outputs.
    assert (
        main(
            [
                "shortlist",
                str(tmp_path / "s2.tsv"),
                "--from-run",
                str(again),
                "-c",
                str(config_file),
            ]
        )
        == EXIT_USAGE
    )
    assert "no sentence pairs" in capsys.readouterr().err


def test_shortlist_from_parallel_data_and_its_errors(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "pairs.jsonl"
    rows = [{"text": "Rumah itu besar.", "text_en": "The house is big."}] * 3
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    listed = tmp_path / "s.tsv"
    assert main(["shortlist", str(listed), "--data", str(data), "-c", str(config_file)]) == 0
    assert "3 sentence pairs" in capsys.readouterr().out
    assert listed.read_text(encoding="utf-8").startswith("\t")

    assert (
        main(["shortlist", str(listed), "--from-run", str(tmp_path), "-c", str(config_file)])
        == EXIT_USAGE
    )
    assert "no records/" in capsys.readouterr().err
    data.write_text("not json\n", encoding="utf-8")
    assert main(["shortlist", str(listed), "--data", str(data), "-c", str(config_file)]) == 2
    assert "pairs.jsonl:1" in capsys.readouterr().err


def test_a_reader_that_stops_early_is_no_error() -> None:
    """`id2en config list | head -1`: no traceback, no 'broken pipe' message."""
    repo = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "config", "list"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the first line is written
    assert process.wait(timeout=60) == EXIT_OK
    assert process.stderr.read() == b""


def test_run_on_one_text_file_translates_it(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "banjir-bandung.txt"
    out = tmp_path / "out"
    assert main(["run", str(example), "-o", str(out), "-c", str(config_file)]) == EXIT_OK
    assert "1 done, 0 failed" in capsys.readouterr().out
    records = run_records(out)
    assert list(records) == ["banjir-bandung"]
    assert records["banjir-bandung"]["status"] == "ok"
    assert records["banjir-bandung"]["source"] == str(example)


def test_run_on_an_empty_folder_is_refused_saying_what_was_looked_for(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    args = ["run", str(tmp_path / "empty"), "-o", str(tmp_path / "out"), "-c", str(config_file)]
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("id2en: no articles in ") and "looked for .txt .md .jsonl" in err


@pytest.mark.parametrize("out", ["taken.txt", "taken.txt/out"])
def test_run_into_a_file_says_out_must_be_a_folder(
    folder: Path, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], out: str
) -> None:
    (tmp_path / "taken.txt").write_text("not a folder")
    args = ["run", str(folder), "-o", str(tmp_path / out), "-c", str(config_file)]
    assert main(args) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{str(tmp_path / 'taken.txt')!r} is a file, not a folder" in err
    assert "Errno" not in err and "resume" not in err
    assert main(["run", "-", "-o", str(tmp_path / out), "-c", str(config_file)]) == EXIT_USAGE
    assert "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        (["--set", "run.progress=always"], True),  # as on a terminal
        ([], False),  # auto: stdout and stderr are not a terminal here
        (["--set", "run.progress=always", "--json"], False),  # output for a program
    ],
)
def test_translate_says_it_is_loading_models_on_a_terminal_only(
    config_file: Path,
    tiny_models: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    shown: bool,
) -> None:
    assert (
        main(["translate", "-c", str(config_file), *extra, "Presiden meresmikan jembatan."])
        == EXIT_OK
    )
    err = capsys.readouterr().err
    assert (f"loading models ({tiny_models / 'marian'}) …\n" in err) == shown, err


def test_run_says_it_is_loading_models_before_the_first_article(
    folder: Path,
    config_file: Path,
    tiny_models: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["run", str(folder), "-o", str(tmp_path / "out"), "-c", str(config_file)]
    assert main([*args, "--progress", "always"]) == EXIT_OK
    err = capsys.readouterr().err
    assert err.startswith(f"loading models ({tiny_models / 'marian'}, {tiny_models / 'bart'}) …\n")
