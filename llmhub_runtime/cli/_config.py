"""``llmhub check``, ``llmhub roles`` and ``llmhub explain``: read the config, call nothing."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..compat import legacy_notes
from ..config_loader import load_config
from ..errors import ConfigError, ConfigProblem, ConfigSyntaxError, ConfigValidationError
from ..hub import LLMHub
from ..models import ResolvedCall, RetryPolicy, RuntimeConfig, Target
from ..redact import mask_url
from ..resolver import Resolver
from ._common import Formatter, config_path, credential_label, credential_state, out, table
from ._sdks import missing_sdk

__all__ = ["DEFAULT_RETRY_SOURCE", "Finding", "findings_of", "register", "sdk_warnings"]

DEFAULT_RETRY_SOURCE = "llmhub's default: rate limits, 5xx, timeouts and connection errors are retried"


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        parents=parents,
        formatter_class=Formatter,
        help="validate llmhub.yaml offline and list every problem",
        description="Validate llmhub.yaml without calling any provider. Every problem is listed as\n"
        "FILE:LINE: KEY.PATH: MESSAGE (did you mean ...?). Exit status 0 when valid, 1 when not.",
        epilog="""\
Examples:
  llmhub check                          # $LLMHUB_CONFIG, else ./llmhub.yaml
  llmhub check config/prod.yaml
  llmhub check --json | jq '.problems[].message'

A missing API key is not a config problem: check notes it; 'llmhub doctor' investigates.
""",
    )
    check.add_argument("path", nargs="?", metavar="PATH", help="config file (default: --config)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run_check)

    roles = commands.add_parser(
        "roles",
        parents=parents,
        formatter_class=Formatter,
        help="list the roles: mode, provider, model, fallbacks, credential",
        description="List every role with what it calls and whether its API key is set\n"
        "(set / missing / not needed; the key itself is never shown).",
        epilog="""\
Examples:
  llmhub roles
  llmhub roles config/prod.yaml --json
""",
    )
    roles.add_argument("path", nargs="?", metavar="PATH", help="config file (default: --config)")
    roles.add_argument("--json", action="store_true", help="print the roles as JSON")
    roles.set_defaults(func=run_roles)

    explain = commands.add_parser(
        "explain",
        parents=parents,
        formatter_class=Formatter,
        help="show the fully resolved call for a role, and where each value came from",
        description="Show what a call to ROLE does: each target of its fallback chain, the merged\n"
        "params and the layer each value came from, the timeout, the retry policy and the\n"
        "credential status. Nothing is called.",
        epilog="""\
Examples:
  llmhub explain llm.inference
  llmhub explain llm.embedding --config config/prod.yaml --json

Precedence of params, lowest first: defaults.params < roles.ROLE.params <
params_override= < keyword arguments of the call.
""",
    )
    explain.add_argument("role", metavar="ROLE", help="role name, e.g. llm.inference")
    explain.add_argument("--json", action="store_true", help="print the resolved call as JSON")
    explain.set_defaults(func=run_explain)


# --- check ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A config problem as ``check`` lists it: YAML syntax errors keep their column."""

    problem: ConfigProblem
    column: int | None = None

    @property
    def sort_key(self) -> tuple[str, int, int]:
        return (self.problem.path or "", self.problem.line or 0, self.column or 0)

    def line(self) -> str:
        """``FILE:LINE[:COLUMN]: KEY.PATH: MESSAGE (did you mean ...?)``."""
        problem = self.problem
        if problem.key_path:
            return str(problem)
        where = problem.path or "<config>"
        if problem.line:
            where += f":{problem.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {problem.message}"

    def as_dict(self) -> dict[str, Any]:
        problem = self.problem
        return {
            "path": problem.path,
            "line": problem.line,
            "column": self.column,
            "key_path": problem.key_path,
            "message": problem.message,
            "suggestion": problem.suggestion,
        }


def findings_of(exc: ConfigError, path: Path) -> list[Finding]:
    """Every problem of a config that failed to load, in file and line order."""
    if isinstance(exc, ConfigValidationError):
        found = [Finding(problem) for problem in exc.problems]
    elif isinstance(exc, ConfigSyntaxError):
        # The message starts with "FILE:LINE:COLUMN: " (or "FILE: "); keep only what follows.
        where = ":".join(str(part) for part in (exc.path, exc.line, exc.column) if part) + ": "
        message = exc.message.removeprefix(where)
        found = [Finding(ConfigProblem("", message, path=exc.path, line=exc.line), exc.column)]
    else:
        found = [Finding(ConfigProblem("", exc.message, path=exc.path or str(path)))]
    return sorted(found, key=lambda finding: finding.sort_key)


def run_check(args: argparse.Namespace) -> int:
    path = config_path(args, args.path)
    try:
        config = load_config(path)
    except ConfigError as exc:
        findings = findings_of(exc, path)
        if args.json:
            problems = [finding.as_dict() for finding in findings]
            out(json.dumps({"ok": False, "path": str(path), "problems": problems}, indent=2))
        else:
            for finding in findings:
                out(finding.line())
            count = len(findings)
            out(f"{path}: {count} problem{'s' if count != 1 else ''}")
        return 1
    resolver = Resolver(config)
    notes = [*legacy_notes(resolver), *_credential_notes(resolver)]
    warnings = sdk_warnings(resolver)
    if args.json:
        report = {
            "ok": True,
            "path": str(path),
            "problems": [],
            "roles": list(resolver.roles),
            "notes": notes,
            "warnings": warnings,
        }
        out(json.dumps(report, indent=2))
        return 0
    roles = ", ".join(resolver.roles) or "none"
    count = len(resolver.roles)
    out(f"{path}: ok ({count} role{'s' if count != 1 else ''}: {roles})")
    for warning in warnings:
        out(f"warning: {warning}")
    for note in notes:
        out(f"note: {note}")
    return 0


def sdk_warnings(resolver: Resolver) -> list[str]:
    """One line per provider whose SDK is not installed: calls to it would fail at once.

    A warning, not a problem: the config is right, this environment lacks a package.
    """
    users: dict[tuple[str, str], list[str]] = {}
    for role in resolver.roles:
        for target in resolver.resolve(role).targets:
            names = users.setdefault((target.provider, target.kind), [])
            if role not in names:
                names.append(role)
    lines = []
    for (provider, kind), roles in users.items():
        missing = missing_sdk(kind)
        if missing is not None:
            label = f"provider {provider!r}" + (f" (any-llm {kind!r})" if kind != provider else "")
            lines.append(
                f"{label} {missing.describe()} (used by {', '.join(roles)}); calls will fail until you run: "
                f"{missing.install}"
            )
    return lines


def _credential_notes(resolver: Resolver) -> list[str]:
    missing: dict[str, list[str]] = {}
    for role in resolver.roles:
        for target in resolver.resolve(role).targets:
            if credential_state(target) == "missing" and target.env_key:
                users = missing.setdefault(target.env_key, [])
                if role not in users:
                    users.append(role)
    return [
        f"{env_key} is not set (needed by {', '.join(roles)}); calls will fail until it is"
        for env_key, roles in missing.items()
    ]


# --- roles ------------------------------------------------------------------------------------


def _fallbacks(call: ResolvedCall) -> list[str]:
    return [target.label for target in call.targets[1:]]


def run_roles(args: argparse.Namespace) -> int:
    hub = LLMHub(config_path(args, args.path))
    calls = [hub.resolve(role) for role in hub.roles]
    if args.json:
        rows = [
            {
                "role": call.role,
                "mode": call.mode,
                "provider": call.provider,
                "model": call.model,
                "fallbacks": _fallbacks(call),
                "credential": credential_state(call.primary),
                "env_key": call.primary.env_key,
            }
            for call in calls
        ]
        out(json.dumps(rows, indent=2))
        return 0
    if not calls:
        out("No roles configured. Add one under 'roles:' (see 'llmhub init --help').")
        return 0
    rows_text = [
        (
            call.role,
            call.mode,
            call.provider,
            call.model,
            ", ".join(_fallbacks(call)) or "-",
            _chain_credentials(call),
        )
        for call in calls
    ]
    out(table(("ROLE", "MODE", "PROVIDER", "MODEL", "FALLBACKS", "CREDENTIAL"), rows_text))
    return 0


def _chain_credentials(call: ResolvedCall) -> str:
    label = credential_label(call.primary)
    missing = sorted(
        {t.env_key for t in call.targets[1:] if t.env_key and credential_state(t) == "missing"} - {call.primary.env_key}
    )
    if missing:
        label += f"; fallback key missing: {', '.join(missing)}"
    return label


# --- explain ------------------------------------------------------------------------------------


def _param_source(source: str, target: Target) -> str:
    if source == "defaults":
        return "defaults.params"
    if source == "role":
        return f"roles.{target.via_role}.params"
    if source == "fallback":
        return f"roles.{target.via_role}.fallbacks[...].params"
    return source


def _setting_source(config: RuntimeConfig, target: Target, field: str) -> str | None:
    """Which layer set ``timeout``/``retry`` (same order as the resolver: role, provider, defaults)."""
    role = config.roles.get(target.via_role) if target.via_role else None
    if role is not None and getattr(role, field) is not None:
        return f"roles.{target.via_role}.{field}"
    entry = config.providers.get(target.provider)
    if entry is not None and getattr(entry, field) is not None:
        return f"providers.{target.provider}.{field}"
    if getattr(config.defaults, field) is not None:
        return f"defaults.{field}"
    return None


def _retry_text(policy: RetryPolicy) -> str:
    return (
        f"{policy.max_attempts} attempt{'s' if policy.max_attempts != 1 else ''}, "
        f"backoff {policy.backoff:g}s doubling up to {policy.max_backoff:g}s, "
        f"Retry-After honoured up to {policy.max_retry_after:g}s"
    )


def _target_dict(config: RuntimeConfig, target: Target, index: int, call: ResolvedCall) -> dict[str, Any]:
    return {
        "position": index,
        "label": target.label,
        "provider": target.provider,
        "kind": target.kind,
        "model": target.model,
        "via_role": target.via_role,
        "api_base": mask_url(target.api_base),
        "params": dict(target.params),
        "param_sources": {k: _param_source(v, target) for k, v in target.param_sources.items()},
        "timeout": target.timeout,
        "timeout_source": _setting_source(config, target, "timeout"),
        "retry": target.retry.model_dump(),
        "retry_source": _setting_source(config, target, "retry"),
        "credential": credential_state(target),
        "env_key": target.env_key,
    }


def run_explain(args: argparse.Namespace) -> int:
    path = config_path(args)
    hub = LLMHub(path)
    call = hub.resolve(args.role)
    config = hub.config
    targets = [_target_dict(config, t, i, call) for i, t in enumerate(call.targets, 1)]
    if args.json:
        report = {
            "role": call.role,
            "mode": call.mode,
            "source": call.source,
            "config": str(path),
            "env": call.env,
            "targets": targets,
        }
        out(json.dumps(report, indent=2, default=str))
        return 0

    origin = f"configured in {path}" if call.source == "role" else f"not configured; 'defaults' in {path} supply it"
    out(f"role {call.role}  ({call.mode}, {origin})")
    if call.env:
        out(f"env  {call.env}")
    meta = (config.meta or {}).get(call.role)
    if meta:
        out(f"meta {json.dumps(meta, default=str)}   (written by llmhub generate; not used for calls)")
    total = len(targets)
    for info in targets:
        out()
        if info["position"] == 1:
            kind = "primary"
        elif info["via_role"] and info["via_role"] != call.role:
            kind = f"fallback via role {info['via_role']}"
        else:
            kind = "fallback"
        out(f"target {info['position']} of {total} ({kind}): {info['label']}")
        out(f"  provider    {info['provider']} (any-llm kind {info['kind']!r})")
        out(f"  api_base    {info['api_base'] or 'any-llm default for ' + info['kind']}")
        label = credential_label(call.targets[info["position"] - 1])
        out(f"  credential  {label}")
        params: dict[str, Any] = info["params"]
        if params:
            shown = {key: f"{key} = {json.dumps(value, default=str)}" for key, value in params.items()}
            width = max(len(text) for text in shown.values())
            for n, (key, text) in enumerate(shown.items()):
                head = "  params      " if n == 0 else " " * 14
                out(f"{head}{text.ljust(width)}   from {info['param_sources'].get(key, '?')}")
        else:
            out("  params      none")
        timeout = f"{info['timeout']:g}s" if info["timeout"] else "none (the provider SDK's default)"
        out(f"  timeout     {timeout}" + (f"   from {info['timeout_source']}" if info["timeout_source"] else ""))
        retry = _retry_text(call.targets[info["position"] - 1].retry)
        source = info["retry_source"] or DEFAULT_RETRY_SOURCE
        out(f"  retry       {retry}   from {source}")
    out()
    if total > 1:
        out("On a failure that survives its retries, each target is tried in the order above.")
    out("Call-time params_override= and keyword arguments win over the params shown.")
    return 0
