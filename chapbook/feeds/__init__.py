"""Atom feeds of works and the OPDS catalog for e-book readers."""
