"""Settings, read from the environment once, at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS = (
    Setting("DATABASE_URL", "sqlite:///var/jiuzhu.db", "数据库地址：默认内嵌 SQLite；postgresql://… 使用 PostgreSQL"),
    Setting("REDIS_URL", None, "Redis 地址（可选，只用于加速；数据库才是唯一事实来源）"),
    Setting("JIUZHU_API_TOKEN", None, "API 访问令牌；设置后所有 /api 请求须带 Authorization: Bearer <令牌>"),
    Setting("JIUZHU_PROCESSES_DIR", "processes", "流程模型目录（BPMN/DMN）"),
    Setting("JIUZHU_FORMS_DIR", "forms", "表单目录（JSON Schema + UI Schema）"),
    Setting("JIUZHU_TIMER_INTERVAL", "1.0", "内嵌定时器扫描间隔（秒）"),
    Setting("JIUZHU_SCRIPT_CPU_SECONDS", "1.0", "单个脚本/表达式的 CPU 时间上限（秒）"),
    Setting("JIUZHU_SCRIPT_MEMORY_MB", "64", "单个脚本/表达式的内存增长上限（MB）"),
    Setting("JIUZHU_HEDUI_RECORDS", "demo/hedui_records.json", "模拟核对数据源（按身份证号登记的核对记录）"),
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
        )
