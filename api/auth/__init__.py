"""auth domain of the HTTP API."""
