"""``llmhub cache stats|clear``: what the roles' response caches hold, and emptying them."""

from __future__ import annotations

import argparse
from typing import Any

from ..config_loader import load_config
from ._common import CLIError, Formatter, config_path, out, table

__all__ = ["register"]


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "cache",
        parents=parents,
        formatter_class=Formatter,
        help="show or clear the roles' response caches",
        description="Show or clear the response caches that roles declare with 'cache:' in llmhub.yaml.",
        epilog="""\
A role's answers are kept under 'cache:' (memory, sqlite or redis). The memory backend lives
inside each process, so only sqlite and redis entries can be counted or cleared from here.

Examples:
  llmhub cache stats                   # entries per cached role and backend
  llmhub cache clear llm.inference     # forget one role's answers
  llmhub cache clear                   # forget every cached role's answers
""",
    )
    actions = parser.add_subparsers(dest="cache_action", metavar="ACTION", title="actions")
    for name, help_text in (("stats", "entries per cached role"), ("clear", "remove cached answers")):
        action = actions.add_parser(name, parents=parents, formatter_class=Formatter, help=help_text)
        action.add_argument("role", nargs="?", default=None, help="only this role (default: every cached role)")
        action.set_defaults(func=run, cache_action=name)
    parser.set_defaults(func=run, cache_action="stats", role=None)


def run(args: argparse.Namespace) -> int:
    from ..cache.keys import role_prefix
    from ..cache.layer import store_for

    config = load_config(config_path(args))
    cached = {
        name: role.cache or config.defaults.cache
        for name, role in config.roles.items()
        if (role.cache or config.defaults.cache) is not None
    }
    if args.role is not None:
        if args.role not in config.roles:
            raise CLIError(f"role {args.role!r} is not in {config_path(args)}; 'llmhub roles' lists them")
        if args.role not in cached:
            raise CLIError(f"role {args.role!r} has no cache: (add 'cache: {{}}' to the role, or under defaults:)")
        cached = {args.role: cached[args.role]}
    if not cached:
        out("No role has a cache: (add 'cache: {ttl: 3600}' to a role, or under defaults:).")
        return 0
    rows: list[list[object]] = []
    for name, settings in cached.items():
        assert settings is not None
        if settings.backend == "memory":
            rows.append([name, "memory", "-", "per process; not visible from here"])
            continue
        store = store_for(settings)
        try:
            prefix = role_prefix(name)
            if args.cache_action == "clear":
                rows.append([name, settings.backend, store.clear(prefix), "cleared"])
            else:
                rows.append([name, settings.backend, store.count(prefix), f"ttl {settings.ttl}s"])
        except Exception as exc:  # a store we cannot reach: say so, per role
            rows.append([name, settings.backend, "?", f"unavailable: {exc}"])
        finally:
            store.close()
    out(table(["role", "backend", "entries", "note"], rows))
    return 0
