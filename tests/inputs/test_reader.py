"""Bad input: every kind gets a per-article error or warning that says why; the run goes on."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.engines.local import run_folder
from pipeline.errors import DecodeError, InputError
from pipeline.inputs.decoding import decode_bytes, html_to_text, looks_like_html
from pipeline.inputs.language import check_language, guess_language
from pipeline.inputs.reader import InputItem, discover, read_article
from pipeline.output.records import read_record, record_path, write_record
from pipeline.types import Article
from tests.helpers import tiny_config_dict, write_files

ARTICLE = (
    "Presiden Joko Widodo meresmikan jembatan baru di Jakarta pada hari Senin. Jembatan itu "
    "menghubungkan dua kecamatan yang selama ini terpisah oleh sungai. Warga menyambut baik "
    "pembangunan tersebut karena sudah lama ditunggu."
)
ENGLISH = (
    "The president opened a new bridge in Jakarta on Monday. The bridge connects two "
    "districts that have been separated by a river for years, and residents said they had "
    "waited a long time for it."
)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Berita</title><style>p {color: red}</style>"
    "<script>var iklan = 1;</script></head><body><nav>Beranda | Politik</nav>"
    f"<h1>Jembatan baru</h1><p>{ARTICLE}</p><p>Biaya Rp10 miliar &amp; selesai.</p>"
    "</body></html>"
)


def _item(path: Path, item_id: str = "x") -> InputItem:
    return InputItem(item_id, path)


def _read(tmp_path: Path, data: bytes, name: str = "a.txt") -> Article:
    path = tmp_path / name
    path.write_bytes(data)
    return read_article(_item(path))


def _read_error(tmp_path: Path, data: bytes, name: str = "a.txt") -> str:
    with pytest.raises(InputError) as caught:
        _read(tmp_path, data, name)
    return str(caught.value)


# -- encodings and binary ------------------------------------------------------------------


def test_utf8_is_read_as_is_without_notes() -> None:
    assert decode_bytes("Harga naik 😀 di 東京.".encode()) == ("Harga naik 😀 di 東京.", [])


def test_utf8_bom_is_dropped_silently() -> None:
    assert decode_bytes(codecs.BOM_UTF8 + b"Halo dunia.") == ("Halo dunia.", [])


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_decoded(codec: str) -> None:
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    text, notes = decode_bytes(bom + ARTICLE.encode(codec))
    assert text == ARTICLE
    assert notes == ["decoded as UTF-16 (BOM)"]


def test_utf16_without_a_bom_is_sniffed() -> None:
    text, notes = decode_bytes(ARTICLE.encode("utf-16-le"))
    assert text == ARTICLE and "without a byte-order mark" in notes[0]


def test_cp1252_curly_quotes_and_dashes_are_decoded() -> None:
    source = "“Harga naik,” kata Menteri — café ditutup."
    text, notes = decode_bytes(source.encode("cp1252"))
    assert text == source
    assert notes == ["not valid UTF-8 (byte 0); decoded as Windows-1252"]


def test_latin1_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    text, notes = decode_bytes(b"Caf\xe9 \x81 dibuka.")
    assert text == "Café \x81 dibuka." and "Latin-1" in notes[0]


def test_mostly_utf8_with_one_bad_byte_stays_utf8() -> None:
    text, notes = decode_bytes("Kota 東京 dan café ".encode() + b"\xff" + b" ramai.")
    assert text.startswith("Kota 東京 dan café") and "\ufffd" in text
    assert "1 invalid UTF-8 byte sequence(s) replaced" in notes[0]


def test_text_in_an_undetectable_encoding_is_a_clear_error() -> None:
    with pytest.raises(DecodeError, match="convert it to UTF-8"):
        decode_bytes("東京で新しい橋が開通しました。市民は喜んでいます。".encode("shift_jis"))


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"%PDF-1.7", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
    ],
)
def test_a_renamed_binary_file_is_named(head: bytes, kind: str) -> None:
    with pytest.raises(DecodeError, match=f"this is {kind}"):
        decode_bytes(head + bytes(range(256)) * 4)


def test_unknown_binary_data_is_refused() -> None:
    data = bytes((i * 7919) % 256 for i in range(4096))
    with pytest.raises(DecodeError, match="binary data"):
        decode_bytes(data)


def test_a_nul_byte_and_control_characters_are_dropped_with_a_warning(tmp_path: Path) -> None:
    article = _read(tmp_path, ARTICLE[:20].encode() + b"\x00\x07\x1b" + ARTICLE[20:].encode())
    assert "3 control character(s) such as NUL dropped before splitting" in article.warnings


# -- empty, unreadable, odd files ----------------------------------------------------------


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    assert _read_error(tmp_path, b"") == "empty file (0 bytes)"


def test_whitespace_only_file_is_an_error(tmp_path: Path) -> None:
    message = _read_error(tmp_path, b" \n\t\r\n  \n")
    assert message.startswith("only whitespace") and "no text to translate" in message


def test_broken_symlink_is_named(tmp_path: Path) -> None:
    link = tmp_path / "gone.txt"
    link.symlink_to(tmp_path / "missing-target.txt")
    with pytest.raises(InputError, match=r"broken symbolic link to .*missing-target.txt"):
        read_article(_item(link))


def test_unreadable_file_reports_the_os_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(ARTICLE)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Tests may run as root, which chmod cannot lock out; fail the open the way the OS does.
    monkeypatch.setattr("pipeline.inputs.reader.open", denied, raising=False)
    with pytest.raises(InputError, match="cannot read the file: Permission denied"):
        read_article(_item(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_mode(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(ARTICLE)
    path.chmod(0)
    with pytest.raises(InputError, match="Permission denied"):
        read_article(_item(path))


def test_named_pipe_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_article(_item(fifo))


def test_file_over_the_size_limit_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(ARTICLE * 10)
    size = f"{path.stat().st_size:,} bytes"
    with pytest.raises(InputError, match=rf"^{size} is over run.max_input_bytes \(100 bytes\)"):
        read_article(_item(path), max_bytes=100)


def test_a_jsonl_line_over_the_size_limit_is_an_error_without_being_read_whole(
    tmp_path: Path,
) -> None:
    """Only the limit and a byte past it are read (before, the whole line, however long,
    and its size said "0.0 MB is over ... (0.0 MB)")."""
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"id": "a", "text": ARTICLE * 400}) + "\n", encoding="utf-8")
    [item] = discover(path)
    with pytest.raises(InputError, match=r"^the line is longer than run.max_input_bytes \(1,000"):
        read_article(item, max_bytes=1000)
    assert read_article(item, max_bytes=1 << 20).text.startswith(ARTICLE)


def test_emoji_and_mixed_scripts_pass_through(tmp_path: Path) -> None:
    text = "Warga senang 😀🎉 dengan jembatan baru di 東京 dan Москва. " + ARTICLE
    article = _read(tmp_path, text.encode())
    assert article.text == text and article.warnings == []


# -- HTML ----------------------------------------------------------------------------------


def test_html_page_is_reduced_to_its_visible_text(tmp_path: Path) -> None:
    article = _read(tmp_path, HTML_PAGE.encode())
    assert article.text == f"Jembatan baru\n\n{ARTICLE}\n\nBiaya Rp10 miliar & selesai."
    assert "<" not in article.text and "iklan" not in article.text
    assert "Beranda" not in article.text  # navigation is not article text
    assert article.warnings[0].startswith("input is an HTML page:")


def test_html_fragment_without_doctype_is_detected() -> None:
    fragment = f"<div class='isi'><p>{ARTICLE}</p><p>Kedua.</p><br><span>Foto</span></div>"
    assert looks_like_html(fragment)
    assert html_to_text(fragment)[0] == f"{ARTICLE}\n\nKedua.\n\nFoto"


@pytest.mark.parametrize(
    "text",
    [
        ARTICLE,
        "Nilai a < b dan c > d, kata dosen <b>tebal</b> itu.",
        "Rumus: x<y, y>z. Email <redaksi@kompas.com> dibuka.",
    ],
)
def test_plain_text_with_angle_brackets_is_not_html(text: str) -> None:
    assert not looks_like_html(text)


def test_html_page_with_no_text_is_an_error(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><script>x()</script></head><body></body></html>"
    assert _read_error(tmp_path, page) == "an HTML page with no visible text"


# -- JSON Lines ----------------------------------------------------------------------------


def _jsonl(tmp_path: Path, lines: list[str], bom: bool = False) -> Path:
    root = tmp_path / "in"
    root.mkdir(exist_ok=True)
    data = "\n".join(lines).encode() + b"\n"
    (root / "feed.jsonl").write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return root


def test_jsonl_malformed_row_fails_alone(tmp_path: Path) -> None:
    good = json.dumps({"id": "r1", "text": ARTICLE})
    root = _jsonl(
        tmp_path, [good, '{"id": "r2", "text": "unterminated', "", good[:-1] + ', "x": 1}']
    )
    items = discover(root)
    assert [i.id for i in items] == ["feed/r1", "feed/2", "feed/r1~line4"]
    assert read_article(items[0]).text == ARTICLE
    with pytest.raises(InputError, match=r"not a valid JSON line .*the other rows still run"):
        read_article(items[1])
    assert read_article(items[2]).source == f"{root / 'feed.jsonl'}:4"


def test_jsonl_row_without_text_is_explained(tmp_path: Path) -> None:
    root = _jsonl(tmp_path, [json.dumps({"id": "r1", "body": ARTICLE}), json.dumps([1, 2])])
    for item in discover(root):
        with pytest.raises(InputError, match=r'expected an object like \{"id"'):
            read_article(item)


def test_jsonl_with_a_bom_reads_its_first_row(tmp_path: Path) -> None:
    root = _jsonl(tmp_path, [json.dumps({"id": "r1", "text": ARTICLE})], bom=True)
    [item] = discover(root)
    assert item.id == "feed/r1" and read_article(item).text == ARTICLE


def test_jsonl_row_with_empty_text_is_an_error(tmp_path: Path) -> None:
    [item] = discover(_jsonl(tmp_path, [json.dumps({"id": "r1", "text": "  "})]))
    with pytest.raises(InputError, match="only whitespace"):
        read_article(item)


# -- ids and output paths ------------------------------------------------------------------


def _tree(root: Path, names: list[str]) -> Path:
    return write_files(root, dict.fromkeys(names, ARTICLE))


def test_two_inputs_with_one_id_both_run_under_distinct_stable_ids(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", ["a.txt", "a.md", "b.txt"])
    items = discover(root)
    assert [i.id for i in items] == ["a", "a.txt", "b"]
    assert items[0].path.name == "a.md"  # path order decides who keeps the short id
    assert [i.id for i in discover(root)] == ["a", "a.txt", "b"]  # stable across runs
    first, second = read_article(items[0]), read_article(items[1])
    assert first.warnings == [f"id 'a' is also the id of {root / 'a.txt'}, recorded as 'a.txt'"]
    assert second.warnings == [f"id 'a' is also the id of {root / 'a.md'}; recorded as 'a.txt'"]


def test_ids_that_differ_only_in_case_are_kept_apart(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", ["Berita.txt", "berita.txt"])
    assert [i.id for i in discover(root)] == ["Berita", "berita.txt"]


def test_hidden_files_and_other_suffixes_are_ignored(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", [".draft.txt", ".git/x.txt", "photo.jpg", "ok.txt"])
    assert [i.id for i in discover(root)] == ["ok"]


def test_symlinked_folder_is_followed_once_and_a_loop_ends(tmp_path: Path) -> None:
    outside = _tree(tmp_path / "outside", ["x.txt"])
    root = _tree(tmp_path / "in", ["a.txt"])
    (root / "linked").symlink_to(outside)
    (outside / "loop").symlink_to(outside)
    assert [i.id for i in discover(root, follow_links=True)] == ["a", "linked/x"]


ODD_IDS = [
    "../../etc/passwd",
    "a/../../b",
    "..",
    ".hidden",
    "CON",
    "aux.txt",
    "trailing.",
    "trailing ",
    "a//b",
    "/abs",
    "tab\there",
    "nul\x00byte",
    "back\\slash:colon*?<>|",
    "%41",
    "A",
    "ü",
    "u\u0308",
    "x" * 500,
    "x" * 499 + "y",
]


def test_any_id_gets_a_safe_distinct_writable_record_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    paths = [record_path(out, article_id) for article_id in ODD_IDS]
    assert len({str(p).casefold() for p in paths}) == len(ODD_IDS)
    for article_id, path in zip(ODD_IDS, paths, strict=True):
        assert path.resolve().is_relative_to((out / "records").resolve()), article_id
        parts = path.relative_to(out).parts
        assert all(len(part.encode()) <= 255 and not part.startswith(".") for part in parts)
        write_record(out, {"id": article_id, "status": "ok"})
        assert read_record(out, article_id) == {"id": article_id, "status": "ok"}


# -- language ------------------------------------------------------------------------------


def test_indonesian_english_and_short_texts_are_told_apart() -> None:
    assert guess_language(ARTICLE).language == "id"
    assert guess_language(ENGLISH).language == "en"
    assert guess_language("Harga beras naik.").language == "unknown"  # too short to judge


def test_indonesian_article_quoting_english_stays_indonesian() -> None:
    text = (
        'Menteri mengatakan, "We will continue to support the people and we are committed '
        'to peace in the region," dalam konferensi pers di Jakarta. Ia menambahkan bahwa '
        "Indonesia akan terus mendorong gencatan senjata."
    )
    assert guess_language(text).language == "id"


def test_english_article_is_flagged_and_translated_by_default() -> None:
    article = Article(id="e", text=ENGLISH)
    check_language(article, "translate")
    assert article.warnings[0].startswith("the text looks English, not Indonesian (")
    assert "translated anyway" in article.warnings[0] and "skipped" not in article.meta


def test_text_in_neither_language_gets_a_warning_and_is_still_translated() -> None:
    french = (
        "Le président a inauguré un nouveau pont à Jakarta lundi. Le pont relie deux "
        "quartiers séparés depuis des années par une rivière, et les habitants disent "
        "qu'ils attendaient ce pont depuis très longtemps déjà, avec impatience."
    )
    article = Article(id="f", text=french)
    check_language(article, "skip")
    assert article.warnings[0].startswith("the text does not look Indonesian (")
    assert "skipped" not in article.meta  # only confident English is ever skipped


def test_english_article_is_skipped_when_configured() -> None:
    article = Article(id="e", text=ENGLISH)
    check_language(article, "skip")
    assert article.meta["skipped"].startswith("skipped: the text looks English")
    assert "run.non_indonesian: translate" in article.meta["skipped"]


# -- a whole run over every bad input ------------------------------------------------------


def _bad_folder(root: Path) -> Path:
    files: dict[str, bytes] = {
        "good.txt": ARTICLE.encode(),
        "empty.txt": b"",
        "blank.txt": b"  \n\n\t ",
        "image.txt": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "cp1252.txt": ("“Kata Menteri” — " + ARTICLE).encode("cp1252"),
        "utf16.txt": codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le"),
        "nul.txt": ARTICLE[:30].encode() + b"\x00" + ARTICLE[30:].encode(),
        "page.txt": HTML_PAGE.encode(),
        "english.txt": ENGLISH.encode(),
        "emoji.md": ("Warga senang 😀 di 東京. " + ARTICLE).encode(),
        "dup.txt": ARTICLE.encode(),
        "dup.md": ARTICLE.encode(),
        "feed.jsonl": (
            json.dumps({"id": "r1", "text": ARTICLE}) + "\n{oops\n" + json.dumps({"text": "Hujan."})
        ).encode(),
    }
    root.mkdir(parents=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    return root


@pytest.mark.parametrize("policy", ["translate", "skip"])
def test_a_run_over_every_bad_input_finishes_and_explains_each(
    tmp_path: Path, tiny_models: Path, policy: str
) -> None:
    root = _bad_folder(tmp_path / "in")
    config = load_config(
        tiny_config_dict(
            tiny_models,
            stages={"summarize": "summarize.extractive"},
            run={"non_indonesian": policy},
        )
    )
    report = run_folder(config, root, tmp_path / "out")
    records = {r["id"]: r for r in map(json.loads, (tmp_path / "out/records.jsonl").open())}
    status = {k: r["status"] for k, r in records.items()}
    errors = {k: r["error"] for k, r in records.items() if r["error"]}
    assert errors == {
        "blank": "read: only whitespace (6 characters), no text to translate",
        "broken": f"read: broken symbolic link to '{root / 'nowhere.txt'}'; fix or remove the link",
        "empty": "read: empty file (0 bytes)",
        "feed/2": "read: not a valid JSON line (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)); the other rows still run",
        "image": "read: this is a PNG image, not text; remove it or convert it to .txt",
    }
    english = "skipped" if policy == "skip" else "ok"
    assert status == {
        **{k: "failed" for k in errors},
        **{k: "ok" for k in ["cp1252", "dup", "dup.txt", "emoji", "feed/3", "feed/r1", "good"]},
        **{k: "ok" for k in ["nul", "page", "utf16"]},
        "english": english,
    }
    assert report.failed == 5 and report.not_indonesian == (policy == "skip")
    for ok in [k for k, s in status.items() if s == "ok"]:
        assert all(s["en"] is not None for s in records[ok]["sentences"]), ok
    assert records["english"]["warnings"][0].startswith(
        "skipped: the text looks English" if policy == "skip" else "the text looks English"
    )
    if policy == "skip":
        assert records["english"]["sentences"] == [] and records["english"]["error"] is None
    assert "Windows-1252" in records["cp1252"]["warnings"][0]
    assert records["page"]["text"].startswith("Jembatan baru\n\nPresiden")


def test_the_python_api_flags_or_skips_english_as_runs_do(tiny_models: Path) -> None:
    from pipeline import Pipeline
    from tests.helpers import tiny_config_dict

    indonesian = "Presiden meresmikan jembatan baru di Jakarta."
    flagged = Pipeline.from_config(tiny_config_dict(tiny_models))([ENGLISH, indonesian])
    assert flagged[0].warnings[0].startswith("the text looks English, not Indonesian (")
    assert flagged[0].english  # translated anyway, as the default says
    assert not any("English" in w for w in flagged[1].warnings)

    config = tiny_config_dict(tiny_models, run={"non_indonesian": "skip"})
    skipped, translated = Pipeline.from_config(config)([ENGLISH, indonesian])
    assert skipped.meta["skipped"].startswith("skipped: the text looks English")
    assert not skipped.english and not skipped.sentences and skipped.error is None
    assert translated.english and translated.sentences


@pytest.mark.parametrize("name", ["berita.txt", "berita.md"])
def test_one_text_file_is_an_input_of_one_article_named_by_the_file(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(ARTICLE, encoding="utf-8")
    items = discover(path)
    assert [(i.id, i.path, i.line) for i in items] == [("berita", path, None)]
    assert items[0].digest is not None  # resume notices an edit, as for a file in a folder
    assert read_article(items[0]).text == ARTICLE


def test_one_file_of_another_kind_is_refused_naming_the_kinds_read(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(
        InputError, match=r"'.*photo\.jpg' is not a kind of file id2en reads.*\.txt/\.md/\.jsonl"
    ):
        discover(path)


def test_a_missing_input_says_what_an_input_may_be(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"does not exist; give a folder of articles or one \.txt/"
    ):
        discover(tmp_path / "nowhere")


@pytest.mark.parametrize("names", [[], ["photo.jpg", ".hidden.txt"]])
def test_a_folder_without_articles_says_what_was_looked_for(
    tmp_path: Path, names: list[str]
) -> None:
    root = _tree(tmp_path / "in", names)
    root.mkdir(exist_ok=True)
    with pytest.raises(InputError) as info:
        discover(root)
    message = str(info.value)
    assert message.startswith(f"no articles in {str(root)!r}: looked for .txt .md .jsonl")
    assert ".csv" in message and "subfolders" in message
    assert ("passed over 1 other files" in message) == bool(names)
