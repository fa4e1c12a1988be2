"""Transitional: atomic writes live in pipeline.output.atomic. Kept only for the stage and
backend modules that still import from here (generation/ctranslate2_models.py,
translate/shortlist.py); remove once they import pipeline.output.atomic."""

from pipeline.output.atomic import atomic_folder, atomic_write_text

__all__ = ["atomic_folder", "atomic_write_text"]
