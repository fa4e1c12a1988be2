"""Stage implementations, one module per family; see pipeline.registry for their names."""
