"""Dolbom: backend for AI/IoT health monitoring of older adults living at home."""

__version__ = "0.1.0"
