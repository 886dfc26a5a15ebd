"""The small prepared datasets the generation tests share live in tests/conftest.py (the evaluation
tests use them too)."""
