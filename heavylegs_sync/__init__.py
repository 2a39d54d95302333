"""heavylegs-sync: import a runner's training and find the training causes of heavy legs.

The library can be used without the CLI: :mod:`heavylegs_sync.ingest` imports files into a
:class:`heavylegs_sync.store.Store`, and the analysis modules work on plain data.
"""

__version__ = "0.1.0"
