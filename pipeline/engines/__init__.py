"""Engines run a pipeline over a folder: local (in-process) and ray (many machines)."""
