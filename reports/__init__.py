"""Regional and personal reports for public health centres (issue 7): a library.

Layout: ``period`` parses ``YYYY-MM`` / ``YYYY-Www``; ``queries`` holds every SQL statement;
``compute`` turns loaded arrays into figures (numpy, no I/O); ``regional`` and ``summary``
build the reports (pure); ``service`` joins load and compute; ``render`` (and ``pdf``) write
JSON, CSV and PDF; ``jobs`` stores the monthly reports; ``cli`` is the ``dolbom report``
command's body. The rules' numbers (offline and battery lines, glucose range, timezone
fallback) come from ``dolbom.rules``.

Public surface, what the API (``api/reports``), the command and the scheduler call:
``reports.service`` (``regional_report``, ``enrollee_summary``, ``stored_reports``,
``stored_report``), ``reports.period.parse_period``, ``reports.render`` (``render``,
``FORMATS``, ``MEDIA_TYPES``), ``reports.jobs.generate_monthly``, ``reports.cli.run`` and the
errors of ``reports.errors``. Nothing here knows HTTP: the routes live in ``api/reports``.
"""
