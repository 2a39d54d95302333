"""``python -m heavylegs_sync`` runs the CLI."""

from heavylegs_sync.cli import run

run()
