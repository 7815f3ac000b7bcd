"""Shared vocabulary of checkrunner: pure types and functions, no I/O.

Every other room may import from here; nothing here imports from another room.
"""
