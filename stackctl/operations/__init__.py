"""Imperative operations on the live configuration, shared by the CLI and the Python API."""
