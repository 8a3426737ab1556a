"""The platform kit: everything a platform package (bot/platforms/<name>/) may import.

- `platform`: the contract a platform keeps, its settings' base, the registry, and
  `ConfigError`; `config`: the whole configuration, built from every platform's section
- `inbound`: the one way in for a platform's events; `inbox` (`inbox_for`): requests
  stored before the ack and run after on a `work_pool`, one person's in order
- `outbox`: notifications out, through a platform's channels; `leases`: one worker's
  hold on a notification, a stored request or a role; `receiver_role`: the role only
  one worker may hold (a Telegram poller, a long connection)
- `shared_state`: what workers share through the database (forms, rate windows,
  tokens); `recordings`: voice notes kept with praise; `msgcrypt`: the callback
  encryption WeCom and DingTalk share; `metrics` (and `metrics_store`): what is counted

Platforms import the kit and nothing else of bot/, and never each other
(import-linter contracts in pyproject.toml).
"""
