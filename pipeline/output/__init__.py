"""The output folder: the record (shape, status, files), run.json, the combined exports,
and records as tables (datasets.Dataset, Parquet, DataFrames)."""
