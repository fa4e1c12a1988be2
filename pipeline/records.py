"""Transitional: records live in pipeline.output.records. Kept only for the module that
still imports from here (translate/shortlist_build.py); remove once it imports
pipeline.output.records."""

from pipeline.output.records import iter_records

__all__ = ["iter_records"]
