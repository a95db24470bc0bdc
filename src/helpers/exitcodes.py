"""Exit codes of the ``smarketing`` command, the same for every subcommand."""

OK = 0  # done; warnings may have been printed
FAILED = 1  # the data was usable but a step failed (a notebook cell, a report)
UNUSABLE = 2  # the input cannot be used: bad data, bad config, bad arguments
PARTIAL = 3  # batch: some clients succeeded, some failed
INTERRUPTED = 130  # stopped by the user (Ctrl-C)
TERMINATED = 143  # stopped by SIGTERM (a scheduler's timeout, kill); cleaned up like Ctrl-C
