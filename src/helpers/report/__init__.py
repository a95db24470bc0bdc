"""Pages of a report run folder (notebook reports, index); the runner is ``helpers.runner``."""
