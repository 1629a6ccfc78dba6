"""audit domain of the HTTP API."""
