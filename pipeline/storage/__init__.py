"""Where inputs and outputs live: a local folder (pathlib.Path, the fast default) or an
object-storage URL (s3://, gs://, az://, any fsspec URL) behind the few Path methods id2en
uses (objects.ObjectPath). `location()` turns what a user gave into one or the other.
"""
