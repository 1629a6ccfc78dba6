"""contacts domain of the HTTP API: the log of every call, visit and message with a person."""
