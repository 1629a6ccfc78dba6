"""reports domain of the HTTP API: the routes of the reports component (``reports``)."""
