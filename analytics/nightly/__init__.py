"""The nightly cycle: daily features, baselines and per-person models."""
