"""Test support, one module by concern; tests/conftest.py loads the fixtures."""
