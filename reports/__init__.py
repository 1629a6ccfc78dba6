"""Regional and personal reports for public health centres (issue 7).

Layout: ``period`` parses ``YYYY-MM`` / ``YYYY-Www``; ``queries`` holds every SQL statement;
``compute`` turns loaded arrays into figures (numpy, no I/O); ``service`` joins the two;
``render`` writes JSON, CSV and PDF; ``cli``, ``views`` and ``jobs`` are the entry points.
"""
