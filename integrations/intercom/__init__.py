"""Intercom integration: the fake Intercom server the sync tasks are tested and benchmarked against."""
