"""llmhub benchmark suite; run ``python benchmarks/run.py`` (see README.md)."""
