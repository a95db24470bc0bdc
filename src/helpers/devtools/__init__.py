"""Developer checks run by pre-commit and CI."""
