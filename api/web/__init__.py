"""web domain of the HTTP API."""
