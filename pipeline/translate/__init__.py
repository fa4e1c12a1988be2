"""Translation: the stage (stage.py), vocabulary shortlists (shortlist.py and the
`id2en shortlist` builder, shortlist_build.py) and the persistent cache (cache.py)."""
