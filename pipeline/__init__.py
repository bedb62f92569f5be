"""Composition root: CLI, config, stages, diff, exports and the scheduler daemon."""
