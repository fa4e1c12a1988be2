"""The `id2en` command line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.cli.terminal import SafeFormatter, safe
from pipeline.errors import (
    EXIT_FAILED_ARTICLES,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_OK,
    EXIT_USAGE,  # noqa: F401  re-exported: tests import the exit codes from here
    Id2enError,
    InputError,
    exit_code,
)
from pipeline.output.records import RECORDS_DIR, REPORT_HTML, STDIN_COPY_PREFIX
from pipeline.storage.objects import StoragePath, location

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig
    from pipeline.types import Article

EPILOG = """\
exit codes: 0 all articles done; 1 some articles failed (see their records);
2 bad arguments, config, generation settings or input folder, output folder locked
by another run, or settings, models or input folder changed since the last run in
OUT_DIR (see --force); 3 a model could not be loaded; 4 a file system error (disk
full, permissions) stopped the run; 5 the Ray cluster lost its workers past the
retries (run the same command again to resume); 130 stopped by Ctrl-C/SIGTERM (run
the same command again to resume).
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _verbose_arg(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """-v is accepted before and after the subcommand (`id2en run ... -v`)."""
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="more log output (-v info, -vv debug)",
    )


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default="default",
        help="YAML config file, or the name of one in configs/ (default: %(default)s)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting, e.g. --set translate.num_beams=2 --set stages.summarize=null"
        " (repeatable; the value is read as YAML)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="id2en",
        description="Indonesian -> English translation and summarization of article folders.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"id2en {__version__}")
    _verbose_arg(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="translate and summarize every article in a folder",
        description="Read *.txt, *.md, *.jsonl ({id, text} rows) and tables (*.parquet, *.csv, "
        "*.tsv, *.json lists of objects; one article per row) under INPUT, recursing into "
        "subfolders, and write one JSON record per article to OUT_DIR/records/ plus "
        "OUT_DIR/records.jsonl. INPUT may also be one file: a .txt/.md article, a table or a "
        ".jsonl file, or - for JSON lines on standard input. Running again on the same "
        "OUT_DIR skips finished articles and retries failed ones.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "input_dir",
        type=location,
        metavar="INPUT",
        help="folder of articles, one article, table or .jsonl file, or - (JSON lines on "
        "stdin); a URL (s3://bucket/prefix/, gs://, az://) for object storage",
    )
    run.add_argument(
        "--text-column",
        default=None,
        metavar="NAME",
        help="tables: the column holding the article text (default: text)",
    )
    run.add_argument(
        "--id-column",
        default=None,
        metavar="NAME",
        help="tables: the column holding ids (default: id if there is one, else the row number)",
    )
    run.add_argument(
        "--keep-columns",
        default=None,
        metavar="A,B",
        help="tables: columns copied into each record's meta.columns, e.g. url,published_at",
    )
    run.add_argument(
        "--delimiter",
        default=None,
        metavar="CHAR",
        help="CSV files: the field delimiter, e.g. ';' or tab (default: sniffed among , ; tab |)",
    )
    run.add_argument(
        "-o",
        "--out",
        type=location,
        required=True,
        metavar="OUT_DIR",
        help="output folder (created if missing; reused to resume), or an object-storage URL",
    )
    _config_args(run)
    run.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=["jsonl", "parquet"],
        default=None,
        help="combined outputs besides the per-article records (repeatable; default jsonl): "
        "OUT_DIR/records.jsonl, OUT_DIR/records.parquet",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="continue in OUT_DIR even though its records used other settings",
    )
    run.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this process (default); ray: spread batches over a Ray cluster "
        '(pip install "id2en[ray]"; INPUT_DIR and OUT_DIR on storage every node sees)',
    )
    run.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDRESS",
        help="Ray cluster to join, e.g. auto or ray://head:10001 (default: start a local one)",
    )
    run.add_argument(
        "--follow-links",
        action="store_true",
        help="read symbolic links that lead outside INPUT_DIR (default: report each one as a "
        "failed entry and do not read it)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="ray engine: model-holding workers, one batch at a time each (default: 1)",
    )
    run.add_argument(
        "--gpus-per-worker",
        type=float,
        default=0,
        help="ray engine: GPUs each worker reserves, e.g. 1 (default: 0)",
    )
    run.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default=None,
        help="progress bar (default auto: only on a terminal)",
    )

    translate = sub.add_parser(
        "translate",
        help="translate text given as arguments, a file or stdin",
        description="Translate Indonesian text and print each sentence beside its English.",
    )
    translate.add_argument("text", nargs="*", help="text to translate (- or none: read stdin)")
    translate.add_argument("-f", "--file", type=Path, help="read the text from this file")
    translate.add_argument("--json", action="store_true", help="print the full JSON record")
    _config_args(translate)

    summarize = sub.add_parser(
        "summarize",
        help="translate text and print its English summary",
        description="Translate Indonesian text (arguments, --file or stdin) and print the "
        "English summary.",
    )
    summarize.add_argument("text", nargs="*", help="text (- or none: read stdin)")
    summarize.add_argument("-f", "--file", type=Path, help="read the text from this file")
    _config_args(summarize)

    config = sub.add_parser("config", help="show, validate or list configs")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_sub.add_parser("show", help="print the resolved config as YAML")
    _config_args(show)
    validate = config_sub.add_parser("validate", help="check config files; exit 2 on errors")
    validate.add_argument("files", nargs="+", type=Path, help="YAML files to check")
    config_sub.add_parser("list", help="list the configs shipped in configs/")

    models = sub.add_parser("models", help="download models for offline use")
    models_sub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    download = models_sub.add_parser(
        "download",
        help="fetch the configured models into the Hugging Face cache",
        description="Download the models a config uses, so a machine without internet can run "
        "later (copy the cache, or use --to and point `model:` at the folders).",
    )
    _config_args(download)
    download.add_argument(
        "--to", metavar="DIR", help="save each model into DIR/<org>--<name> instead of the cache"
    )

    evaluate = sub.add_parser(
        "eval",
        help="measure translation quality (BLEU, chrF) and speed on sentence pairs",
        description="Translate the `text` of each JSONL row and score it against `text_en` with "
        "sacreBLEU, for the config and for each --variant, side by side in one run.",
    )
    _config_args(evaluate)
    evaluate.add_argument(
        "--data",
        type=Path,
        default=None,
        help="JSONL with text/text_en (default: $ID2EN_SENTENCE_DATA/sentences.jsonl)",
    )
    evaluate.add_argument(
        "--limit",
        type=_positive_int,
        default=200,
        help="first N pairs only (default: %(default)s)",
    )
    evaluate.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=KEY=VALUE[,KEY=VALUE]",
        help="also run with these overrides, e.g. int8=translate.quantize=dynamic-int8",
    )

    shortlist = sub.add_parser(
        "shortlist",
        help="build a vocabulary shortlist file for translate.shortlist",
        description="Count which English pieces follow which Indonesian pieces, in parallel "
        "data (--data) or in an earlier run's records (--from-run: the model's own full-"
        "vocabulary translations, no parallel data needed), and write the file that "
        "`translate.shortlist` reads. Then compare quality with `id2en eval --variant "
        "sl=translate.shortlist=FILE`.",
    )
    _config_args(shortlist)
    shortlist.add_argument("output", type=Path, metavar="OUTPUT", help="shortlist file to write")
    origin = shortlist.add_mutually_exclusive_group(required=True)
    origin.add_argument("--data", type=Path, help="JSONL rows with text and text_en")
    origin.add_argument(
        "--from-run", type=Path, metavar="OUT_DIR", help="a folder written by `id2en run`"
    )
    shortlist.add_argument(
        "--frequent",
        type=int,
        default=100,
        help="most frequent English pieces, always allowed (default: %(default)s)",
    )
    shortlist.add_argument(
        "--per-source",
        type=int,
        default=50,
        help="candidates kept per Indonesian piece (default: %(default)s)",
    )

    check = sub.add_parser(
        "check",
        help="run the QA checks alone on translations: numbers, quotes, spans, glossary, guards",
        description="Check translated sentence pairs as a run checks its own: numbers by "
        "value, English quotes and protected spans kept byte for byte, glossary renderings, "
        "the output guards. Prints per check how many sentences it flags, with examples.",
    )
    check.add_argument(
        "out_dir", nargs="?", type=Path, metavar="OUT_DIR", help="a folder written by run"
    )
    check.add_argument("--data", type=Path, help="JSONL rows with text and text_en instead")
    check.add_argument(
        "-c",
        "--config",
        default=None,
        help="config whose glossary and guards apply (default: OUT_DIR's own, else default)",
    )
    check.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one setting of that config (repeatable)",
    )
    check.add_argument(
        "--examples", type=int, default=3, help="flags shown per check (default: %(default)s)"
    )

    report = sub.add_parser("report", help="write an HTML page to read a run's results")
    report.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="a folder written by run")
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="HTML file to write (default: OUT_DIR/report.html)",
    )
    doctor = sub.add_parser(
        "doctor",
        help="print versions, devices and the model cache: paste its output into a bug report",
        description="Print what a bug report needs: id2en, Python and package versions (each "
        "against the lock file id2en is tested with), the CUDA/MPS devices torch and "
        "CTranslate2 see, the device, dtype and threads the default config resolves to, the "
        "Hugging Face cache folder and offline mode. Uses no network and loads no model; "
        "paste its output into a bug report.",
    )
    doctor.add_argument("--json", action="store_true", help="the same facts as one JSON object")
    doctor.add_argument(
        "--lock-diff",
        action="store_true",
        help="list every installed package whose version differs from the lock (or that the "
        "lock does not name), e.g. after installing without `-c pipeline/data/cpu-lock.txt`",
    )
    nested = [sub, config_sub, models_sub]
    for command in {id(p): p for group in nested for p in group.choices.values()}.values():
        _verbose_arg(command)
    return parser


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    # huggingface_hub prints through a stderr handler of its own: passed on to ours too,
    # each of its warnings would show twice.
    logging.getLogger("huggingface_hub").propagate = False


def _read_input(args: argparse.Namespace, config: PipelineConfig) -> str | Article:
    """A --file is read as `run` reads it: any encoding, HTML to text, the size limit."""
    if args.file:
        from pipeline.errors import InputError
        from pipeline.inputs.reader import InputItem, read_article

        item = InputItem(args.file.stem, args.file)
        try:
            return read_article(item, max_bytes=config.run.max_input_bytes)
        except InputError as exc:
            raise InputError(f"{args.file}: {exc}") from None
    if args.text and args.text != ["-"]:  # "-" is standard input, as in most tools
        return " ".join(args.text)
    return sys.stdin.read()


def _run_overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.overrides)
    if args.progress:
        overrides.append(f"run.progress={args.progress}")
    if args.formats:
        overrides.append(f"run.formats=[{', '.join(dict.fromkeys(args.formats))}]")
    if args.follow_links:
        overrides.append("run.follow_links=true")
    # JSON strings are YAML strings: a column named "yes" or "2024" stays a name.
    if args.text_column is not None:
        overrides.append(f"run.text_column={json.dumps(args.text_column)}")
    if args.id_column is not None:
        overrides.append(f"run.id_column={json.dumps(args.id_column)}")
    if args.delimiter is not None:
        overrides.append(f"run.delimiter={json.dumps(args.delimiter)}")
    if args.keep_columns is not None:
        names = [name.strip() for name in args.keep_columns.split(",") if name.strip()]
        overrides.append(f"run.keep_columns={json.dumps(names)}")
    return overrides


@contextmanager
def _stdin_file(out_dir: StoragePath) -> Iterator[Path]:
    """JSON lines from standard input, kept in a file inside OUT_DIR for the run's length
    (in a local temporary folder when OUT_DIR is object storage): a run lists its articles
    before it starts, and a stream can be read only once."""
    if sys.stdin.isatty():
        print("reading JSON lines from standard input (Ctrl-D ends)", file=sys.stderr)
    from pipeline.engines.run_lock import make_out_dir

    local = out_dir if isinstance(out_dir, Path) else None  # an object store: a local temp
    if local is not None:
        make_out_dir(local)
    folder = Path(tempfile.mkdtemp(prefix=STDIN_COPY_PREFIX, dir=local))
    path = folder / "stdin.jsonl"
    try:
        with path.open("wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config

    config = load_config(args.config, _run_overrides(args))
    if str(args.input_dir) == "-":
        with _stdin_file(args.out) as path:
            return _run(args, config, path, input_name="-")
    return _run(args, config, args.input_dir)


def _run(
    args: argparse.Namespace, config: Any, input_path: StoragePath, input_name: str | None = None
) -> int:
    from pipeline.engines.local import run_folder

    if args.engine == "ray":
        from pipeline.engines.ray import run_folder_ray

        report = run_folder_ray(
            config,
            input_path,
            args.out,
            force=args.force,
            address=args.ray_address,
            workers=args.workers,
            gpus_per_worker=args.gpus_per_worker,
            input_name=input_name,
        )
    else:
        report = run_folder(config, input_path, args.out, force=args.force, input_name=input_name)
    print(report.line())
    for article_id, error in report.failures[:20]:
        print(f"  failed {safe(article_id, newlines=False)}: {safe(error)}", file=sys.stderr)
    if report.interrupted:
        print(
            f"stopped early; run the same command again to resume into {args.out}", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    return EXIT_FAILED_ARTICLES if report.failed else EXIT_OK


def _cmd_translate(args: argparse.Namespace, *, summary_only: bool = False) -> int:
    from pipeline.api import Pipeline

    overrides = list(args.overrides)
    if not summary_only:
        overrides.append("stages.summarize=null")
    if getattr(args, "json", False):  # output for a program: no "loading models" line
        overrides.append("run.progress=never")
    pipe = Pipeline.from_config(args.config, overrides)
    text = _read_input(args, pipe.config)
    article = pipe.load()(text)  # loaded first: on a terminal, it says it is loading
    if article.error:
        print(f"error: {safe(article.error)}", file=sys.stderr)
        return EXIT_FAILED_ARTICLES
    if summary_only:
        print(article.summary or "")
    elif args.json:
        print(json.dumps(article.to_dict(), ensure_ascii=False, indent=1))
    else:
        for sentence in article.sentences:
            print(f"{sentence.text}\n  -> {sentence.en}")
    for warning in article.warnings:
        print(f"warning: {safe(warning)}", file=sys.stderr)
    return EXIT_OK


def _cmd_config(args: argparse.Namespace) -> int:
    from pipeline.config import available_configs, load_config

    if args.config_command == "list":
        print("\n".join(available_configs()))
    elif args.config_command == "show":
        print(load_config(args.config, args.overrides).to_yaml(), end="")
    else:
        for path in args.files:
            load_config(path)
            print(f"{path}: ok")
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.generation.models import download_models
    from pipeline.registry import holds_model

    config = load_config(args.config, args.overrides)
    sources = [
        s
        for family, s in (("translate", config.translate), ("summarize", config.summarize))
        if holds_model(getattr(config.stages, family))
    ]
    for source, path in zip(sources, download_models(sources, args.to), strict=True):
        local = Path(source.model).expanduser().is_dir()
        print(
            f"{source.model}: {path}" + (" (a local folder: nothing to download)" if local else "")
        )
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.translate.evaluate import (
        default_pairs_file,
        format_table,
        load_pairs,
        run_variants,
    )

    data = args.data or default_pairs_file()
    if data is None or not data.exists():
        where = f" at {data}" if data is not None else ""
        raise InputError(
            f"no evaluation data{where}; pass --data FILE.jsonl (rows with text and "
            "text_en) or set ID2EN_SENTENCE_DATA to a folder holding sentences.jsonl"
        )
    pairs = load_pairs(data, args.limit)  # InputError for a bad file
    print(format_table(run_variants(args.config, args.overrides, args.variant, pairs)))
    return EXIT_OK


def _cmd_shortlist(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.generation.models import load_tokenizer
    from pipeline.translate.evaluate import load_pairs
    from pipeline.translate.shortlist_build import (
        ShortlistSummary,
        build_shortlist_file,
        pairs_from_run,
    )

    config = load_config(args.config, args.overrides)
    summary = ShortlistSummary()
    if args.data is not None:
        try:
            pairs: Any = load_pairs(args.data)  # InputError for a bad file
        except OSError as exc:  # an unreadable --data is a bad argument (2), not a run's I/O (4)
            raise InputError(str(exc)) from exc
    else:
        if not (args.from_run / RECORDS_DIR).is_dir():
            raise InputError(f"{args.from_run} has no records/; pass a folder written by run")
        pairs = pairs_from_run(args.from_run, summary)
    tokenizer = load_tokenizer(config.translate)
    tokenizer.model_max_length = 1 << 30  # pieces are counted here, never cut: no length warning
    build_shortlist_file(  # InputError when there are no pairs
        tokenizer,
        pairs,
        args.output,
        frequent=args.frequent,
        per_source=args.per_source,
        summary=summary,
    )
    print(
        f"wrote {args.output}: {summary.pairs} sentence pairs, {summary.fixed} always-allowed "
        f"pieces, candidates for {summary.source_pieces} Indonesian pieces"
        + (
            f" ({summary.unlisted_runs} records made with a shortlist passed over)"
            if summary.unlisted_runs
            else ""
        )
    )
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from pipeline.qa.audit import (
        audit,
        check_config,
        format_report,
        pairs_of_file,
        pairs_of_run,
    )
    from pipeline.qa.check import QaSettings

    if (args.out_dir is None) == (args.data is None):
        raise InputError("id2en check: give either OUT_DIR (a run folder) or --data FILE.jsonl")
    if args.out_dir is not None and not (args.out_dir / RECORDS_DIR).is_dir():
        raise InputError(f"{args.out_dir} has no records/; pass a folder written by run")
    settings = QaSettings.of(check_config(args.out_dir, args.config, args.overrides))
    pairs = pairs_of_run(args.out_dir) if args.data is None else pairs_of_file(args.data)
    print(safe(format_report(audit(pairs, settings, examples=args.examples))))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report.page import write_report

    output = args.output or args.out_dir / REPORT_HTML
    write_report(args.out_dir, output)
    print(f"wrote {output}")
    return EXIT_OK


def _cmd_doctor(args: argparse.Namespace) -> int:
    from pipeline.cli.doctor import collect, format_lock_differences, format_text

    if args.lock_diff:
        print(safe(format_lock_differences()))
        return EXIT_OK
    report = collect()
    print(json.dumps(report.to_dict(), indent=2) if args.json else safe(format_text(report)))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    handlers: dict[str, Any] = {
        "run": _cmd_run,
        "translate": _cmd_translate,
        "summarize": lambda a: _cmd_translate(a, summary_only=True),
        "config": _cmd_config,
        "models": _cmd_models,
        "report": _cmd_report,
        "check": _cmd_check,
        "eval": _cmd_eval,
        "shortlist": _cmd_shortlist,
        "doctor": _cmd_doctor,
    }
    try:
        code = int(handlers[args.command](args))
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`id2en config list | head -1`): what it wanted, it has.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (Id2enError, OSError, KeyboardInterrupt) as exc:
        mapped = exit_code(exc)
        assert mapped is not None
        print(f"id2en: {safe(_error_message(exc, mapped))}", file=sys.stderr)
        return mapped


def _error_message(exc: BaseException, code: int) -> str:
    if code == EXIT_INTERRUPTED:
        return "interrupted; run the same command again to resume"
    if code == EXIT_IO and not isinstance(exc, Id2enError):
        # Records written so far are whole (atomic writes): the same command resumes.
        return f"{exc}; fix it and run the same command again to resume"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
