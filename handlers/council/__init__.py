"""The experience council: a mirror problem (one theme in one team) is proposed as an
item with a business case that prices both losses from the records, approved by a
council member (never its proposer), put in progress with an owner and a due date,
done, then validated or reopened; each step is told to the team's staff. While it is
open, the staff who reported waivers and suggestions on its theme hear it is being
worked on, once each. Once done, it is validated by comparing equal windows before the
fix and after it.

- `commands`: the `council` verb — list the items, open one, show one;
- `workflow`: the steps an item takes, who may take them and what each one sets;
- `case`: opening an item with its business case;
- `auto_open`: items opened by themselves for rules waived too often;
- `notices`: who hears of an item — the team, the reporters, the supervisors;
- `validation`: before and after the fix, per item and in the monthly digest."""

# registry.load imports the package: this declares the `council` verb and its use cases.
from handlers.council import commands  # noqa: F401
