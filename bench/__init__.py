"""`python -m bench`: the benchmark suite (see bench/__main__.py)."""
