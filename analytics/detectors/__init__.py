"""Scoring (pure: numpy arrays in, findings out; no I/O, no clock, no logging)."""
