"""Tokens and the login limiter: what every request's dependencies need (api/deps.py).

Below the domains: it imports only api.errors, api.principal, api.db and the ground floor,
so that api/deps.py can build on it while the login domain (api/auth/) builds on deps.
"""
