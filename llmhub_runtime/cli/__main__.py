"""``python -m llmhub_runtime.cli``: the same as the ``llmhub`` command."""

from llmhub_runtime.cli import main

raise SystemExit(main())
