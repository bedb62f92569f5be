"""Persistence: page snapshots, versioned facts, change events and the delivery outbox.

Functions here take a Session and never commit; the pipeline owns the
transaction (one per page fetched, one per snapshot extracted).
"""
