"""Filled in by issue 14 (apps talk through registries)."""
