"""ingest component of Dolbom."""
