"""`python -m pipeline.cli ...` is `id2en ...`."""

from pipeline.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
