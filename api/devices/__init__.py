"""devices domain of the HTTP API."""
