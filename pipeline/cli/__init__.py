"""The `id2en` command: `main` (pipeline.cli.main), its terminal output (terminal) and
`id2en doctor` (doctor). `python -m pipeline.cli` runs it too."""
