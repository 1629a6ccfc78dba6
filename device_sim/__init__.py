"""device_sim component of Dolbom."""
