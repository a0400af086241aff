"""``llmhub doctor``: per provider, is the key set, is any-llm's package there, does the endpoint answer."""

from __future__ import annotations

import argparse
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..clients import NO_KEY, ClientPool, close_client
from ..config_loader import load_config
from ..errors import (
    AuthenticationError,
    ConfigError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
)
from ..errors_map import map_exception
from ..local import BASE_ENV_VAR, DEFAULT_BASE, INSTALL_XLLAMACPP
from ..models import Target
from ..redact import mask_url
from ..resolver import Resolver
from ._common import Formatter, config_path, credential_state, out
from ._config import findings_of
from ._sdks import missing_sdk

__all__ = ["register"]

PING_TIMEOUT = 10.0


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        parents=parents,
        formatter_class=Formatter,
        help="check each provider: credential, any-llm package, and (--ping) the endpoint",
        description="For each provider the config uses: is its API key set, is any-llm's package for\n"
        "it installed, and, with --ping, does its endpoint answer (a model listing, which\n"
        "costs no tokens). Every failure comes with advice. Exit status 1 if anything failed.",
        epilog="""\
Examples:
  llmhub doctor
  llmhub doctor config/prod.yaml --ping
  llmhub doctor --ping --json
""",
    )
    parser.add_argument("path", nargs="?", metavar="PATH", help="config file (default: --config)")
    parser.add_argument("--ping", action="store_true", help="contact each endpoint (list its models)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


@dataclass
class Check:
    name: str
    status: str  # "ok", "fail", "skip"
    detail: str
    advice: str | None = None


@dataclass
class ProviderReport:
    provider: str
    kind: str
    roles: list[str]
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(c.status == "fail" for c in self.checks)


def run(args: argparse.Namespace) -> int:
    path = config_path(args, args.path)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for finding in findings_of(exc, path):
            out(finding.line())
        out(f"llmhub doctor: fix the config first ('llmhub check {path}' lists the problems)")
        return 1
    resolver = Resolver(config)
    targets: dict[str, tuple[Target, list[str]]] = {}
    for role in resolver.roles:
        for target in resolver.resolve(role).targets:
            _, users = targets.setdefault(target.provider, (target, []))
            if role not in users:
                users.append(role)
    reports = [_diagnose(target, users, ping=args.ping) for target, users in targets.values()]
    unused = sorted(set(config.providers) - set(targets))

    if args.json:
        payload = {
            "config": str(path),
            "ok": not any(r.failed for r in reports),
            "providers": [
                {"provider": r.provider, "kind": r.kind, "roles": r.roles, "checks": [c.__dict__ for c in r.checks]}
                for r in reports
            ],
            "unused_providers": unused,
        }
        out(json.dumps(payload, indent=2))
        return 1 if payload["ok"] is False else 0

    out(f"llmhub doctor: {path} ({_count(len(resolver.roles), 'role')}, {_count(len(reports), 'provider')} in use)")
    for report in reports:
        out()
        out(f"{report.provider}  (any-llm kind {report.kind!r}; used by {', '.join(report.roles)})")
        for check in report.checks:
            out(f"  {'[' + check.status + ']':<6} {check.name:<11} {check.detail}")
            if check.advice and check.status != "ok":
                out(f"{'':<21}-> {check.advice}")
    if unused:
        out()
        out(f"declared but not used by any role: {', '.join(unused)}")
    failures = sum(1 for r in reports for c in r.checks if c.status == "fail")
    out()
    if failures:
        out(f"{_count(failures, 'problem')} found.")
        return 1
    out("All checks passed." if args.ping else "All checks passed (add --ping to contact the endpoints).")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _diagnose(target: Target, roles: list[str], *, ping: bool) -> ProviderReport:
    report = ProviderReport(target.provider, target.kind, roles)
    state = credential_state(target)
    if state == "not needed":
        report.checks.append(Check("credential", "ok", "not needed"))
    elif state == "set":
        report.checks.append(Check("credential", "ok", f"{target.env_key} is set"))
    else:
        report.checks.append(
            Check(
                "credential",
                "fail",
                f"{target.env_key} is not set",
                f"export {target.env_key}=... (or change providers.{target.provider}.env_key in the config)",
            )
        )
    provider_class, package = _package_check(target.kind)
    report.checks.append(package)
    if not ping:
        return report
    if provider_class is None:
        report.checks.append(Check("endpoint", "skip", "not checked: the provider package is missing"))
    elif state == "missing":
        report.checks.append(Check("endpoint", "skip", "not checked: no credential"))
    else:
        report.checks.append(_ping(provider_class, target))
    return report


def _package_check(kind: str) -> tuple[Any, Check]:
    needed = missing_sdk(kind)
    install = needed.install if needed is not None else f"pip install 'any-llm-sdk[{kind}]'"
    if needed is not None:  # known without importing any-llm: say what is missing and which extra adds it
        return None, Check("package", "fail", f"any-llm provider {kind!r} {needed.describe()}", install)
    try:
        from any_llm import AnyLLM

        provider_class = AnyLLM.get_provider_class(kind)
    except ImportError as exc:
        return None, Check("package", "fail", f"any-llm cannot load provider {kind!r}: {exc}", install)
    except Exception as exc:  # an unknown id: load_config would have caught it; report, don't crash
        return None, Check("package", "fail", f"any-llm does not know provider {kind!r}: {exc}")
    missing = getattr(provider_class, "MISSING_PACKAGES_ERROR", None)
    if missing is not None:
        return None, Check("package", "fail", f"the SDK for {kind!r} is not installed ({missing})", install)
    return provider_class, Check("package", "ok", f"any-llm provider {kind!r} is installed")


def _default_base(provider_class: Any, target: Target) -> str | None:
    """The endpoint to show, with any key in its userinfo or query masked."""
    return mask_url(target.api_base or getattr(provider_class, "API_BASE", None))


def _ping(provider_class: Any, target: Target) -> Check:
    base = _default_base(provider_class, target)
    shown = base or "the provider's default endpoint"
    if not getattr(provider_class, "SUPPORTS_LIST_MODELS", False):
        return Check("endpoint", "skip", f"not checked: any-llm cannot list {target.kind!r} models")
    api_key = NO_KEY if target.env_key is None else os.environ.get(target.env_key, "").strip()
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        from any_llm.utils.aio import run_async_in_sync

        try:
            # Built as the hub builds it: unified exceptions, no SDK-level retries.
            client = ClientPool().get(target, api_key, loop=None)
        except Exception as exc:
            outcome["error"] = exc
            return
        try:
            outcome["models"] = list(client.list_models())
        except Exception as exc:
            outcome["error"] = exc
        finally:
            try:
                run_async_in_sync(close_client(client), allow_running_loop=True)
            except Exception:  # closing is best effort; the answer is already in
                outcome.setdefault("close_failed", True)

    worker = threading.Thread(target=attempt, name="llmhub-doctor-ping", daemon=True)
    worker.start()
    worker.join(PING_TIMEOUT)
    if worker.is_alive():
        return Check("endpoint", "fail", f"{shown}: no answer within {PING_TIMEOUT:g}s", _reach_advice(target))
    if "models" in outcome:
        count = len(outcome["models"])
        return Check("endpoint", "ok", f"{shown} answered ({count} model{'s' if count != 1 else ''} listed)")
    error = map_exception(outcome["error"], target=target, role="doctor", api_key=api_key)
    return _failed_ping(error, target, shown)


def _failed_ping(error: ProviderError, target: Target, shown: str) -> Check:
    status = f" (HTTP {error.status_code})" if error.status_code else ""
    if isinstance(error, AuthenticationError):
        return Check(
            "endpoint",
            "fail",
            f"{shown} answered, but refused the key{status}",
            f"check the value of {target.env_key}" if target.env_key else "this endpoint wants a key: set env_key",
        )
    if isinstance(error, ProviderConnectionError | ProviderTimeoutError):
        return Check("endpoint", "fail", f"{shown} is unreachable: {error.message}", _reach_advice(target))
    return Check("endpoint", "fail", f"{shown} answered with an error{status}: {error.message}")


def _reach_advice(target: Target) -> str:
    host = urlsplit(target.api_base or "").hostname or ""
    if target.kind == "llamacpp" and host in ("127.0.0.1", "localhost", "::1"):
        return (
            f"start the local model with 'llmhub serve-local' (it serves at {DEFAULT_BASE}; when that port "
            f"is taken it prints an 'export {BASE_ENV_VAR}=...' line to run here; needs {INSTALL_XLLAMACPP})"
        )
    where = f"providers.{target.provider}.api_base" if target.api_base else "your network / proxy settings"
    return f"check {where}"
