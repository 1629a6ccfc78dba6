"""The ``dolbom`` command (CONTRACT §4): the roof of the house.

The only package that imports every component: it parses the command line, starts ingest,
analytics, the API and the simulator, runs ``dolbom up`` with its embedded broker and
database, and schedules the system-wide jobs (partitions, retention, monthly reports).
"""
