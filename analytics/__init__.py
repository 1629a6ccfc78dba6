"""analytics component of Dolbom."""
