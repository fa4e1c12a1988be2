"""Summaries: the abstractive and extractive stages (stage.py) and the model-free
extractive ranking (extractive.py)."""
