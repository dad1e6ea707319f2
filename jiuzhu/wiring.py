"""Building the engine from settings: the one place adapters meet the core."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from redis import Redis

from engine.clock import Clock, SystemClock
from engine.decisions import load_rules
from engine.deploy.model import Deployment, FormResolver, SourceFile, load_files
from engine.digest import Anchors
from engine.errors import DeploymentRefused, JiuzhuError, Location, Problem
from engine.runtime.connectors import Connectors
from engine.sandbox.scripts import Sandbox
from engine.service.facade import DeployResult, Engine
from engine.sla.functions import HELPERS
from engine.sla.policy import SlaPolicy
from integrations.digest_keys import Ed25519Keys, ensure_key_file, load_keys
from integrations.hedui import HeduiConnector, SimulatedCheck
from integrations.partner import attach
from integrations.sql import SqlStore
from integrations.sql.budget import DbBudget
from integrations.sql.digests import SqlDigestArchive
from integrations.web_sessions import SessionBook
from integrations.yijianshi_catalogue import CatalogueConnector
from jiuzhu.accounts import role_names_from
from jiuzhu.scheduler import build_wakeups, redis_prefix
from jiuzhu.settings import ROOT, Settings

if TYPE_CHECKING:
    from integrations.ports import User
    from jiuzhu.web.context import WebContext


def build_engine(settings: Settings, *, clock: Clock | None = None, demo_clock: bool = False) -> Engine:
    """``demo_clock``: run on the 演示时钟 (``jiuzhu serve --demo`` only); otherwise
    the stored demo offset is never read."""
    store = SqlStore.from_url(settings.database_url, db_budget(settings))
    store.create_schema()
    if demo_clock:
        from jiuzhu.demo_clock import DemoClock

        clock = DemoClock(store.engine, clock)
    sandbox = Sandbox(
        cpu_seconds=settings.script_cpu_seconds,
        memory_bytes=settings.script_memory_mb * 1024 * 1024,
        helpers=HELPERS,
    )
    engine = Engine(
        store,
        clock or SystemClock(),
        sandbox,
        wakeups=build_wakeups(settings, store=store),
        connectors=default_connectors(settings.processes_dir, settings.hedui_records),
        roles=role_names_from(settings.roles_file),  # what a model's starterRoles may name
        time_limits=settings.time_limits,
    )
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    attach(engine, redis, prefix=redis_prefix()).listen_to_redis()
    key_file = settings.digest_key_file
    if demo_clock and key_file is not None and not key_file.exists():
        key_file = None  # serve --demo makes it (demo_digest_key)
    anchor(engine, load_keys(key_file, settings.digest_key))
    return engine


def anchor(engine: Engine, keys: Ed25519Keys | None) -> None:
    """Turn signed chain-head digests on (None: off, and verify checks links only)."""
    store = engine.store
    if keys is None or not isinstance(store, SqlStore):
        engine.anchors = None
        return
    engine.anchors = Anchors(keys, SqlDigestArchive(store.engine))


DEMO_DIGEST_KEY = ROOT / "var" / "digest-key.pem"


def demo_digest_key(engine: Engine, settings: Settings) -> str:
    """``serve --demo``: the digest key in use, made first when none is
    configured or the configured file is missing (default var/digest-key.pem);
    returns the line to print."""
    if engine.anchors is not None:
        return f"审计摘要签名公钥：{engine.anchors.keys.public_key}"
    path = settings.digest_key_file or DEMO_DIGEST_KEY
    keys, created = ensure_key_file(path)
    anchor(engine, keys)
    state = "已生成" if created else "沿用"
    advice = "生产环境请用 JIUZHU_DIGEST_KEY_FILE 指向库外保管的密钥"
    return f"审计摘要签名密钥：{state} {path}（公钥 {keys.public_key}；{advice}）"


def db_budget(settings: Settings) -> DbBudget:
    return DbBudget(
        transaction_seconds=settings.transaction_seconds,
        busy_seconds=settings.db_busy_seconds,
        idle_in_transaction_seconds=settings.idle_in_transaction_seconds,
    )


def default_connectors(processes_dir: Path, hedui_records: Path) -> Connectors:
    """信息核对 against the simulated check centre, and the 联办 catalogue in force."""
    return Connectors.of(
        [
            HeduiConnector(SimulatedCheck.from_file(hedui_records)),
            CatalogueConnector(processes_dir / "yijianshi" / "catalogue.json"),
        ]
    )


def policy_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob("*.sla.json"))
        elif path.name.endswith(".sla.json"):
            found.append(path)
    return found


def deploy_paths(engine: Engine, paths: Sequence[Path], forms_dir: Path | None, *, actor: str | None) -> DeployResult:
    """Deploy models and forms; SLA policy files (``*.sla.json``) among the
    paths are loaded first, so processes are checked against them."""
    policies = policy_files(paths)
    if policies:
        engine.load_policies([(str(p), p.read_bytes()) for p in policies], actor=actor)
    models = [p for p in paths if not p.name.endswith(".sla.json")]
    if policies and not models:
        return DeployResult("", False, [], ())
    files, resolve = load_files(models, forms_dir)
    return engine.deploy(files, resolve, actor=actor)


# Stored with the deployment as given (the version keeps what it was published with),
# never built: policies (loaded on their own as well), decision rules, scenarios.
COMPANIONS = (".sla.json", ".decisions.json", ".feature")


def split_sources(sources: Sequence[SourceFile]) -> tuple[list[tuple[str, bytes]], list[SourceFile], FormResolver]:
    """Uploaded files as a deployment takes them: the policies (``*.sla.json``),
    the files to deploy (models and :data:`COMPANIONS`), and a resolver finding
    the uploaded forms (the other ``*.json``) by name."""
    policies = [(s.name, s.content) for s in sources if s.name.endswith(".sla.json")]
    by_name = {s.name.rsplit("/", 1)[-1]: s for s in sources if not s.name.endswith(COMPANIONS)}
    deployed = [s for s in sources if s.name.endswith(COMPANIONS) or not s.name.endswith(".json")]
    return policies, deployed, lambda _bpmn, form: by_name.get(form)


def check_sources(engine: Engine, sources: Sequence[SourceFile]) -> Deployment:
    """What :func:`deploy_sources` would refuse for these files (DeploymentRefused,
    every problem), deploying nothing: the designer's studio lints with this."""
    policies, models, resolve = split_sources(sources)
    refuse_bad_rules(sources)
    return engine.check_deployment(models, resolve, policies)


def refuse_bad_rules(sources: Sequence[SourceFile]) -> None:
    """Decision rules (``*.decisions.json``) deployed with a version are what the case
    pages read for its cases: one that does not load refuses the deployment, located."""
    problems = []
    for source in sources:
        if source.name.endswith(".decisions.json"):
            try:
                load_rules(source.content.decode("utf-8", errors="replace"), source=source.name)
            except JiuzhuError as exc:
                problems += [Problem(p.code, p.message, Location(source.name, "#document")) for p in exc.problems()]
    if problems:
        raise DeploymentRefused(problems)


def deploy_sources(
    engine: Engine, sources: Sequence[SourceFile], *, actor: str | None, note: str | None = None
) -> tuple[DeployResult | None, list[SlaPolicy]]:
    """Uploaded files, deployed as :func:`deploy_paths` deploys folders: the
    policies (``*.sla.json``) first, then the models with the uploaded forms
    (``*.json``) resolved by name. Refused alike: a deployment with no model
    (``DEPLOY_NO_MODEL``). The result is None when only policies were sent.
    ``note``: the change note audited with the deployment (the studio's publish)."""
    policies, models, resolve = split_sources(sources)
    refuse_bad_rules(sources)
    loaded = engine.load_policies(policies, actor=actor) if policies else []
    if policies and len(policies) == len(sources):
        return None, loaded
    return engine.deploy(models, resolve, actor=actor, note=note), loaded


def build_web_context(engine: Engine, settings: Settings) -> WebContext:
    """Accounts, the inbox and form drafts on the engine's own database; attachments on disk."""
    from integrations.attachments_fs import FileAttachmentStore
    from integrations.sql.accounts import SqlAccounts
    from integrations.sql.drafts import SqlDraftStore
    from integrations.sql.inbox import SqlInbox
    from integrations.sql.throttle import SqlLoginThrottle
    from jiuzhu.web.context import WebContext

    store = engine.store
    if not isinstance(store, SqlStore):
        raise TypeError("the web needs the SQL store")
    throttle = SqlLoginThrottle(
        store.engine,
        engine.clock,
        max_failures=settings.login_max_failures,
        window_seconds=settings.login_window_seconds,
        address_max_failures=settings.login_address_max_failures,
    )
    return WebContext(
        engine,
        settings,
        SqlAccounts(store.engine),
        SqlInbox(store.engine),
        throttle,
        session_book(engine, settings),
        drafts=SqlDraftStore(store.engine),
        attachments=FileAttachmentStore(settings.attachments_dir),
    )


def session_book(engine: Engine, settings: Settings) -> SessionBook:
    """Sessions run on the wall clock: moving a demo's clock a week ahead must not sign everyone out."""
    from jiuzhu.demo_clock import DemoClock

    clock = engine.clock.base if isinstance(engine.clock, DemoClock) else engine.clock
    idle, max_age = timedelta(minutes=settings.session_idle_minutes), timedelta(hours=settings.session_hours)
    return SessionBook(engine, clock, idle=idle, max_age=max_age)


def load_demo_accounts(context: WebContext, demo_dir: Path) -> list[tuple[User, str]]:
    """Org units and demo users from ``demo/``; returns (user, password) pairs."""
    from jiuzhu.accounts import load_demo_users, load_org_units

    context.accounts.save_org_units(load_org_units(demo_dir / "org_units.json"))
    _roles, users = load_demo_users(demo_dir / "users.json")
    context.accounts.save_users([u for u, _ in users])
    context.reload()
    return users
