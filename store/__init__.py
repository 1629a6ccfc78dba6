"""The store: schema, migrations, partitions, backups and connections of Dolbom's PostgreSQL."""
