"""Settings, read from the environment once, at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.timebounds import TimeLimits

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS = (
    Setting("DATABASE_URL", "sqlite:///var/jiuzhu.db", "数据库地址：默认内嵌 SQLite；postgresql://… 使用 PostgreSQL"),
    Setting("REDIS_URL", None, "Redis 地址（可选，只用于加速；数据库才是唯一事实来源）"),
    Setting("JIUZHU_API_TOKEN", None, "系统 API 令牌（集成与自动化用，管理员范围）：Authorization: Bearer <令牌>"),
    Setting("JIUZHU_API_TOKEN_NAME", "machine", "该系统令牌的名称；其调用在审计日志中记为 system:<名称>"),
    Setting("JIUZHU_PROCESSES_DIR", "processes", "流程模型目录（BPMN/DMN）"),
    Setting("JIUZHU_FORMS_DIR", "forms", "表单目录（JSON Schema + UI Schema）"),
    Setting("JIUZHU_TIMER_INTERVAL", "1.0", "内嵌定时器扫描间隔（秒）"),
    Setting("JIUZHU_SCRIPT_CPU_SECONDS", "1.0", "单个脚本/表达式的 CPU 时间上限（秒）"),
    Setting("JIUZHU_SCRIPT_MEMORY_MB", "64", "单个脚本/表达式的内存增长上限（MB）"),
    Setting("JIUZHU_TEMPLATE_OUTPUT_KB", "256", "办理说明与通知模板渲染结果的大小上限（KB）；CPU 与内存上限同脚本"),
    Setting("JIUZHU_TRANSACTION_SECONDS", "10", "单个数据库事务（一步办理）的运行时限（秒），超时中止并回滚；0 为不限"),
    Setting("JIUZHU_DB_BUSY_SECONDS", "20", "SQLite：写入等待数据库锁的最长时间（秒），应大于事务时限"),
    Setting("JIUZHU_IDLE_IN_TRANSACTION_SECONDS", "60", "PostgreSQL：事务空闲未结束的最长时间（秒），超时由数据库断开"),
    Setting("JIUZHU_SHUTDOWN_SECONDS", "5", "收到 SIGTERM 后等待进行中请求结束的最长时间（秒），之后强制退出"),
    Setting("JIUZHU_HEDUI_RECORDS", "demo/hedui_records.json", "模拟核对数据源（按身份证号登记的核对记录）"),
    Setting("JIUZHU_SECRET_KEY", None, "会话 Cookie 签名密钥；不设则每次启动随机生成（多进程部署必须设置）"),
    Setting("JIUZHU_ROLES_FILE", "demo/users.json", "角色代码与中文角色名（即 BPMN 泳道名）的对照文件（取其 roles）"),
    Setting("JIUZHU_LOGIN_MAX_FAILURES", "5", "同一账号在时间窗内允许的登录失败次数（不论来源地址）"),
    Setting("JIUZHU_LOGIN_ADDRESS_MAX_FAILURES", "50", "同一来源地址在时间窗内允许的登录失败次数（不论账号）"),
    Setting("JIUZHU_LOGIN_WINDOW_SECONDS", "900", "登录失败计数的时间窗（秒）"),
    Setting("JIUZHU_SESSION_HOURS", "8", "登录会话的最长有效期（小时，自登录起算）"),
    Setting("JIUZHU_SESSION_IDLE_MINUTES", "60", "登录会话的空闲超时（分钟，自最近一次访问起算）"),
    Setting(
        "JIUZHU_TRUSTED_PROXIES",
        "",
        "可信反向代理的地址（逗号分隔的 IP 或网段）；只采信来自这些地址的 X-Forwarded-For，缺省不采信",
    ),
    Setting("JIUZHU_SECURE_COOKIES", "", "设为 1 时会话 Cookie 只经 HTTPS 发送"),
    Setting("JIUZHU_INBOX_PAGE_SIZE", "20", "待办列表每页条数"),
    Setting("JIUZHU_NOTICES_FILE", "demo/notices.json", "书面通知的出具机关、复议机关、法院与期限（各地不同）"),
    Setting("JIUZHU_RETENTION_FILE", "demo/retention.json", "档案保管期限（办结后至少 5 年；救助对象退出后年数）"),
    Setting("JIUZHU_AUDIT_FILE", "demo/audit.json", "审计：入户抽查的抽取比例（及其依据）与近亲属备案环节"),
    Setting("JIUZHU_ATTACHMENTS_DIR", "var/attachments", "表单附件的存放目录（按 SHA-256 存放）"),
    Setting("JIUZHU_TIMER_MAX_YEARS", "10", "计时器时长（及循环间隔）的上限（年）；超出的在部署时拒绝、运行时转为故障"),
    Setting("JIUZHU_TIMER_YEAR_MIN", "1900", "计时器日期时间允许的最早年份"),
    Setting("JIUZHU_TIMER_YEAR_MAX", "2100", "计时器日期时间允许的最晚年份"),
    Setting("JIUZHU_TIMER_MAX_REPEATS", "1000", "循环计时器（R次数/间隔）允许的最多重复次数"),
    Setting("JIUZHU_TIMER_MIN_INTERVAL_SECONDS", "60", "循环计时器允许的最短间隔（秒）"),
    Setting(
        "JIUZHU_DIGEST_KEY_FILE",
        None,
        "审计链头签名摘要的 Ed25519 私钥文件（PEM，放在数据库之外）；serve --demo 未配置时生成 var/digest-key.pem",
    ),
    Setting("JIUZHU_DIGEST_KEY", None, "同上，以 64 位十六进制给出私钥（优先于密钥文件）"),
    Setting(
        "JIUZHU_STUDIO_SCENARIO_SECONDS",
        "300",
        "流程设计：对草稿运行流程场景（features/*.feature）的时限（秒），超时即终止并视为未通过",
    ),
    Setting(
        "JIUZHU_STUDIO_DRY_RUN_SECONDS",
        "20",
        "流程设计：一次试运行（在临时数据库上重放各步）的时限（秒），超时即停止并指出停在哪一步",
    ),
    Setting("JIUZHU_STUDIO_DRY_RUN_STEPS", "100", "流程设计：一次试运行最多的步数（提交表单与跳转时间）"),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    api_token: str | None
    processes_dir: Path
    forms_dir: Path
    timer_interval: float
    script_cpu_seconds: float
    script_memory_mb: int
    hedui_records: Path
    secret_key: str | None = None
    roles_file: Path = ROOT / "demo" / "users.json"
    login_max_failures: int = 5
    login_window_seconds: float = 900.0
    session_hours: float = 8.0
    session_idle_minutes: float = 60.0
    login_address_max_failures: int = 50
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False
    inbox_page_size: int = 20
    notices_file: Path = ROOT / "demo" / "notices.json"
    attachments_dir: Path = ROOT / "var" / "attachments"
    api_token_name: str = "machine"
    time_limits: TimeLimits = field(default_factory=TimeLimits)
    template_output_kb: int = 256
    transaction_seconds: float = 10.0
    db_busy_seconds: float = 20.0
    idle_in_transaction_seconds: float = 60.0
    shutdown_seconds: float = 5.0
    retention_file: Path = ROOT / "demo" / "retention.json"
    audit_file: Path = ROOT / "demo" / "audit.json"
    digest_key_file: Path | None = None
    digest_key: str | None = None
    studio_scenario_seconds: float = 300.0
    studio_dry_run_seconds: float = 20.0  # one 试运行 request: replaying its inputs on a throw-away engine
    studio_dry_run_steps: int = 100  # inputs one 试运行 may hold

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            default = next(s.default for s in SETTINGS if s.name == name)
            return env.get(name) or default

        def path(name: str) -> Path:
            value = Path(get(name) or ".")
            return value if value.is_absolute() else ROOT / value

        database_url = get("DATABASE_URL") or "sqlite:///var/jiuzhu.db"
        if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////"):
            relative = database_url[len("sqlite:///") :]
            if relative and relative != ":memory:":
                target = ROOT / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                database_url = f"sqlite:///{target}"
        return cls(
            database_url=database_url,
            redis_url=get("REDIS_URL"),
            api_token=get("JIUZHU_API_TOKEN"),
            processes_dir=path("JIUZHU_PROCESSES_DIR"),
            forms_dir=path("JIUZHU_FORMS_DIR"),
            timer_interval=float(get("JIUZHU_TIMER_INTERVAL") or 1.0),
            script_cpu_seconds=float(get("JIUZHU_SCRIPT_CPU_SECONDS") or 1.0),
            script_memory_mb=int(get("JIUZHU_SCRIPT_MEMORY_MB") or 64),
            hedui_records=path("JIUZHU_HEDUI_RECORDS"),
            secret_key=get("JIUZHU_SECRET_KEY"),
            roles_file=path("JIUZHU_ROLES_FILE"),
            login_max_failures=int(get("JIUZHU_LOGIN_MAX_FAILURES") or 5),
            login_window_seconds=float(get("JIUZHU_LOGIN_WINDOW_SECONDS") or 900),
            session_hours=float(get("JIUZHU_SESSION_HOURS") or 8),
            session_idle_minutes=float(get("JIUZHU_SESSION_IDLE_MINUTES") or 60),
            login_address_max_failures=int(get("JIUZHU_LOGIN_ADDRESS_MAX_FAILURES") or 50),
            trusted_proxies=tuple(p.strip() for p in (get("JIUZHU_TRUSTED_PROXIES") or "").split(",") if p.strip()),
            secure_cookies=(get("JIUZHU_SECURE_COOKIES") or "") in ("1", "true", "yes"),
            inbox_page_size=int(get("JIUZHU_INBOX_PAGE_SIZE") or 20),
            notices_file=path("JIUZHU_NOTICES_FILE"),
            attachments_dir=path("JIUZHU_ATTACHMENTS_DIR"),
            api_token_name=get("JIUZHU_API_TOKEN_NAME") or "machine",
            time_limits=TimeLimits(
                max_duration_years=float(get("JIUZHU_TIMER_MAX_YEARS") or 10),
                earliest_year=int(get("JIUZHU_TIMER_YEAR_MIN") or 1900),
                latest_year=int(get("JIUZHU_TIMER_YEAR_MAX") or 2100),
                max_repetitions=int(get("JIUZHU_TIMER_MAX_REPEATS") or 1000),
                min_interval_seconds=float(get("JIUZHU_TIMER_MIN_INTERVAL_SECONDS") or 60),
            ),
            template_output_kb=int(get("JIUZHU_TEMPLATE_OUTPUT_KB") or 256),
            transaction_seconds=float(get("JIUZHU_TRANSACTION_SECONDS") or 0),
            db_busy_seconds=float(get("JIUZHU_DB_BUSY_SECONDS") or 20),
            idle_in_transaction_seconds=float(get("JIUZHU_IDLE_IN_TRANSACTION_SECONDS") or 0),
            shutdown_seconds=float(get("JIUZHU_SHUTDOWN_SECONDS") or 5),
            retention_file=path("JIUZHU_RETENTION_FILE"),
            audit_file=path("JIUZHU_AUDIT_FILE"),
            digest_key_file=path("JIUZHU_DIGEST_KEY_FILE") if get("JIUZHU_DIGEST_KEY_FILE") else None,
            digest_key=get("JIUZHU_DIGEST_KEY"),
            studio_scenario_seconds=float(get("JIUZHU_STUDIO_SCENARIO_SECONDS") or 300),
            studio_dry_run_seconds=float(get("JIUZHU_STUDIO_DRY_RUN_SECONDS") or 20),
            studio_dry_run_steps=int(get("JIUZHU_STUDIO_DRY_RUN_STEPS") or 100),
        )
