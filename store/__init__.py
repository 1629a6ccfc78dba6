"""The store: schema, migrations and the connection pool of Dolbom's PostgreSQL."""
