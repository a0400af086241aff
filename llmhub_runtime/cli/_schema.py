"""``llmhub schema``: the JSON Schema of ``llmhub.yaml``, generated from ``RuntimeConfig``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..models import RuntimeConfig
from ._common import Formatter, out

__all__ = ["SHIPPED_SCHEMA", "config_schema", "register", "schema_text"]

SHIPPED_SCHEMA = Path(__file__).resolve().parent.parent / "schema" / "llmhub.schema.json"
"""The schema file shipped in the package (editors point ``$schema`` at it)."""

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def config_schema() -> dict[str, Any]:
    """``RuntimeConfig.model_json_schema()``, titled ``llmhub.yaml`` and marked with its dialect."""
    schema = RuntimeConfig.model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": "llmhub.yaml"}


def schema_text() -> str:
    """The schema as the shipped file holds it (2-space JSON, trailing newline)."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "schema",
        parents=parents,
        formatter_class=Formatter,
        help="print the JSON Schema of llmhub.yaml",
        description="Print the JSON Schema of llmhub.yaml, generated from llmhub's config models.",
        epilog=f"""\
Editors with the YAML language server validate and complete llmhub.yaml when its first
line names the schema ('llmhub init' writes it):

  # yaml-language-server: $schema={SHIPPED_SCHEMA.as_uri()}

Examples:
  llmhub schema > llmhub.schema.json
  llmhub schema | python -m json.tool --compact
""",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out(schema_text(), end="")
    return 0
