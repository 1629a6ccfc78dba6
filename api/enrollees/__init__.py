"""enrollees domain of the HTTP API."""
