"""Analytics: readings and events scored in batches of data time; alerts opened, updated and
closed (docs/analytics.md).

- ``detectors/``: the scoring, pure (numpy arrays in, findings out; no I/O, no clock, no
  logging): the vital rules (their table in ``vital_rules.py``), NEWS2, personal baselines,
  daily features, the routine model, trends, weight on arrival, a person's nightly refit, the
  clock conditions and whom they can concern.
- ``findings.py``, ``lifecycle.py``: what scoring finds, and what that changes in the alerts
  (pure).
- ``queries/``: all the SQL: readings and events, per-enrollee state, alerts and conditions
  (written through ``store.alerts``), the clock's state and pre-selection, shard state and
  locks, the minute's by-time reads.
- ``minute/``, ``nightly/``: the two cycles, each ``load`` (SQL) -> ``score`` (pure) ->
  ``write`` (SQL), shown step by step in its ``cycle.py``.
- ``shards.py``, ``runner.py``, ``service.py``: how workers split the enrollees, which shards a
  cycle takes under which locks and transactions, and ``dolbom analytics`` itself.
"""
