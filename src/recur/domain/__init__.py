"""The billing engine: pure rules, no I/O (dates in, charges out)."""
