"""``python -m convlab`` runs the CLI."""

from convlab.cli import main

raise SystemExit(main())
