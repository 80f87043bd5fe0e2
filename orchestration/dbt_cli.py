"""`alt911-dbt`: dbt's own command line, less the cost of log lines that no logger writes.

dbt turns every event it fires into a protobuf message and a JSON line for each of its loggers, and
only then lets the logger drop the line for its level. A build fires two to four debug events per SQL
statement (about 2,000 a step), and at the info level of both our loggers (stdout, which Dagster
reads, and the step's dbt.log) every one of them was built and thrown away: 1.5-2 s of a metrics
build's 9 s, in the threads that also run the nodes. Here an event below the level of every logger is
not built at all; warnings and errors always are (--warn-error must see them), and with --debug or
--log-level debug nothing changes. Every other argument, output and exit code is dbt's.
"""

from __future__ import annotations

import sys


def skip_unlogged_events() -> None:
    """Patch dbt's event manager so that an event below every logger's level and below a warning is
    dropped before it is built."""
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import _log_level_map as rank  # dbt's own ranking of its levels

    fire_event = EventManager.fire_event

    def fire_logged_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        event_rank = rank[level or e.level_tag()]
        below_every_logger = self.loggers and all(event_rank < rank[logger.level] for logger in self.loggers)
        if event_rank < rank[EventLevel.WARN] and below_every_logger and not force_warn_or_error_handling:
            return
        fire_event(self, e, level, node, force_warn_or_error_handling)

    EventManager.fire_event = fire_logged_event


def main() -> None:
    skip_unlogged_events()
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    sys.exit(cli())


if __name__ == "__main__":
    main()
