"""api component of Dolbom."""
