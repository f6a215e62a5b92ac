"""Unit tests: the pure billing engine, no database, no web."""
