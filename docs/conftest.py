"""Doctests in docs/: every page runs as pasted with nothing configured (the built-in emulator).

pytest collects these pages with the caller's OQC settings removed (``tests.isolation``), as a
reader who has just installed the package would run them; tests/docs/test_pages_both_ways.py runs
every page again with ``OQC_URL`` pointing at an emulator served on a loopback port.
"""
