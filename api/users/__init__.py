"""users domain of the HTTP API: listing, deactivating, revoking tokens, passwords."""
