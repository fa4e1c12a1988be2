"""Inputs: finding and reading articles (reader.py), decoding bytes and HTML (decoding.py),
and telling Indonesian from English (language.py)."""
