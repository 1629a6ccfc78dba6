"""alerts domain of the HTTP API."""
