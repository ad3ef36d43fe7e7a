"""Builders and servers shared by the tests: one of each, imported from here."""
