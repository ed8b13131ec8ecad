"""Reuse the repository's fixtures (tests/conftest.py only applies under tests/)."""
from tests.conftest import synthetic_nyu  # noqa: F401
