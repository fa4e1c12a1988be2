"""Every error reaches the user through main()'s one handler, with its documented exit code."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pipeline import errors
from pipeline.cli import doctor
from pipeline.cli.main import main
from tests.helpers import tiny_config_dict


def _raising(exc: BaseException) -> Callable[..., object]:
    """Stands in for `id2en doctor`'s public collect(): the command raises what it raises."""

    def collect(*args: object, **kwargs: object) -> object:
        raise exc

    return collect


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.ConfigError("bad key"), errors.EXIT_USAGE),
        (errors.InputError("not an article"), errors.EXIT_USAGE),
        (errors.DecodeError("not text"), errors.EXIT_USAGE),
        (errors.RunRefusedError("folder locked"), errors.EXIT_USAGE),
        (errors.ModelLoadError("no such model"), errors.EXIT_MODEL),
        (errors.ClusterError("workers lost"), errors.EXIT_CLUSTER),
        (OSError(errno.ENOSPC, "No space left on device"), errors.EXIT_IO),
        (KeyboardInterrupt(), errors.EXIT_INTERRUPTED),
    ],
)
def test_each_error_maps_to_its_documented_exit_code(
    exc: BaseException, code: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(doctor, "collect", _raising(exc))
    assert main(["doctor"]) == code
    err = capsys.readouterr().err
    assert err.startswith("id2en: ") and err.count("\n") == 1
    if isinstance(exc, errors.Id2enError):
        assert err == f"id2en: {exc}\n"
    elif code == errors.EXIT_IO:
        assert err.endswith("; fix it and run the same command again to resume\n")
    else:
        assert "interrupted" in err


def test_every_id2en_error_class_is_covered() -> None:
    classes = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.Id2enError)
    }
    assert classes == {
        errors.Id2enError,
        errors.ConfigError,
        errors.InputError,
        errors.DecodeError,
        errors.RunRefusedError,
        errors.ModelLoadError,
        errors.ClusterError,
    }


def test_a_bug_is_not_mapped_but_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "collect", _raising(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        main(["doctor"])


# -- the two commands that used to catch ValueError themselves -----------------------------


def _eval_error(data: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main(["eval", "--data", str(data)])
    return code, capsys.readouterr().err


def test_eval_bad_data_file_messages_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "a", "text_en": "b"}\nnot json\n', encoding="utf-8")
    code, err = _eval_error(data, capsys)
    assert code == errors.EXIT_USAGE
    assert err.startswith(f"id2en: {data}:2: not a JSON line (") and err.endswith(")\n")

    data.write_text('["text"]\n', encoding="utf-8")
    assert _eval_error(data, capsys) == (
        errors.EXIT_USAGE,
        f"id2en: {data}:1: expected an object with 'text' and 'text_en'\n",
    )

    data.write_text('{"text": "a"}\n', encoding="utf-8")
    assert _eval_error(data, capsys) == (
        errors.EXIT_USAGE,
        f"id2en: {data}: no rows with both 'text' and 'text_en' (the English reference); "
        "nothing to evaluate\n",
    )

    data.write_bytes(b'{"text": "\xff"}\n')
    code, err = _eval_error(data, capsys)
    assert code == errors.EXIT_USAGE
    assert err.startswith("id2en: 'utf-8' codec can't decode byte 0xff")

    missing = tmp_path / "none.jsonl"
    assert _eval_error(missing, capsys) == (
        errors.EXIT_USAGE,
        f"id2en: no evaluation data at {missing}; pass --data FILE.jsonl (rows with text and "
        "text_en) or set ID2EN_SENTENCE_DATA to a folder holding sentences.jsonl\n",
    )


def test_load_pairs_errors_are_input_errors_and_still_value_errors(tmp_path: Path) -> None:
    from pipeline.translate.evaluate import load_pairs

    data = tmp_path / "d.jsonl"
    data.write_text("not json\n", encoding="utf-8")
    with pytest.raises(errors.InputError, match=r"d\.jsonl:1: not a JSON line"):
        load_pairs(data)
    assert issubclass(errors.InputError, ValueError)


@pytest.fixture
def config_file(tmp_path: Path, tiny_models: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_models)))
    return path


def test_shortlist_bad_data_messages_and_exit_codes(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    listed = tmp_path / "s.tsv"
    base = ["shortlist", str(listed), "-c", str(config_file)]

    missing = tmp_path / "none.jsonl"
    assert main([*base, "--data", str(missing)]) == errors.EXIT_USAGE  # not EXIT_IO
    assert capsys.readouterr().err == f"id2en: [Errno 2] No such file or directory: '{missing}'\n"

    data = tmp_path / "pairs.jsonl"
    data.write_text("not json\n", encoding="utf-8")
    assert main([*base, "--data", str(data)]) == errors.EXIT_USAGE
    assert capsys.readouterr().err.startswith(f"id2en: {data}:1: not a JSON line (")

    assert main([*base, "--from-run", str(tmp_path)]) == errors.EXIT_USAGE
    assert capsys.readouterr().err == (
        f"id2en: {tmp_path} has no records/; pass a folder written by run\n"
    )


def test_shortlist_with_no_pairs_is_a_usage_error(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    record = {"id": "a", "status": "failed", "sentences": [{"text": "x", "en": "y"}]}
    (run / "records" / "a.json").write_text(json.dumps(record), encoding="utf-8")
    listed = tmp_path / "s.tsv"
    code = main(["shortlist", str(listed), "--from-run", str(run), "-c", str(config_file)])
    assert code == errors.EXIT_USAGE
    assert capsys.readouterr().err == "id2en: no sentence pairs to build a shortlist from\n"
    assert not listed.exists()
