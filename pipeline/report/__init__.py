"""`id2en report`: the HTML page for a run (page.py), its first screen of charts and filters
(charts.py), and the summary of repeated warnings that records and charts share
(warning_summary.py)."""
