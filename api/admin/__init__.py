"""admin domain of the HTTP API."""
