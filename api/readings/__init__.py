"""readings domain of the HTTP API."""
