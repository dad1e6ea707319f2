"""Schema migrations: a database of a release before Alembic is adopted with
its rows, the revisions make exactly the tables' schema, ``jiuzhu db upgrade``."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from engine.sla.tracker import OverdueAlert
from integrations.sql import SqlStore, make_engine, migrations
from jiuzhu import cli
from tests.conftest import FIXTURES
from tests.support.at_once import at_once
from tests.support.schema import SINCE_BASELINE, drop_columns_since_baseline

PRE_ALEMBIC = FIXTURES / "pre_alembic"


def drift(engine: Engine) -> list[Any]:
    """What autogenerate would write: the difference between database and tables."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def load(engine: Engine, script: Path) -> None:
    lines = [line for line in script.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";\n") if s.strip()]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement.rstrip(";"))


def version(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return migrations.current(conn)


def test_a_database_of_a_release_before_alembic_is_upgraded_with_its_rows(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqlStore.from_url(db_url)
    load(store.engine, PRE_ALEMBIC / f"ce5655f.{store.engine.dialect.name}.sql")
    assert drift(store.engine)  # tables, columns, indexes and the supervision key are missing
    monkeypatch.setenv("DATABASE_URL", db_url)

    assert cli.main(["db", "upgrade"]) == 0
    assert f"数据库结构已升级：迁移前版本 → {migrations.head()}" in capsys.readouterr().out
    assert version(store.engine) == migrations.head()
    assert drift(store.engine) == []

    with store.engine.connect() as conn:
        instance = conn.execute(text("SELECT status, revision, org_unit, policy, state FROM instance")).one()
        state = '{"data": {"applicant_name": "张三"}}'
        assert tuple(instance) == ("running", 3, "qinghe.dongcheng", "dibao@2026", state)
        events = conn.execute(text("SELECT seq, type, hash FROM audit_event ORDER BY seq")).all()
        assert [tuple(e) for e in events] == [(1, "instance_started", "h1"), (2, "task_completed", "h2")]
        task = conn.execute(text("SELECT name, lane, paused, provisional, applicant_name FROM ready_task")).one()
        assert tuple(task) == ("乡镇审核", "乡镇审核人", False, False, None)
        assert conn.execute(text("SELECT count(*) FROM timer")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM process_version")).scalar_one() == 1
    with store.reader() as unit:
        rows = unit.overdue_alerts()
    assert [(r["role"], r["partner"], r["due_on"]) for r in rows] == [("县级民政局", None, "2026-10-08")]

    # The new key: the same overdue limit goes to a second role; twice to one role is refused.
    moment = datetime(2026, 10, 8, 8, 0, tzinfo=UTC)
    more = OverdueAlert(
        "inst-0001", "task:task-0003", "township_review", "乡镇审核", "乡镇审核人", "2026-10-08", moment
    )
    with store.unit() as unit:
        unit.add_overdue_alerts("qinghe.dongcheng", [more])
    with pytest.raises(Exception, match="(?i)unique"), store.unit() as unit:
        unit.add_overdue_alerts("qinghe.dongcheng", [more])

    assert cli.main(["db", "upgrade"]) == 0  # a second upgrade changes nothing
    assert "无需升级" in capsys.readouterr().out
    store.close()


def test_columns_the_old_start_up_added_nullable_become_not_null(db_url: str) -> None:
    """A database of the last release before Alembic (its tables are today's), whose
    ``ready_task`` flags were added by ``_add_missing_columns``: nullable, NULL in old rows."""
    store = SqlStore.from_url(db_url)
    old = [t for name, t in SQLModel.metadata.tables.items() if name not in SINCE_BASELINE]
    SQLModel.metadata.create_all(store.engine, tables=old)
    with store.engine.begin() as conn:
        drop_columns_since_baseline(conn)
        for column in ("paused", "provisional"):
            conn.exec_driver_sql(f"ALTER TABLE ready_task DROP COLUMN {column}")
            conn.exec_driver_sql(f"ALTER TABLE ready_task ADD COLUMN {column} BOOLEAN")
        conn.exec_driver_sql(
            "INSERT INTO ready_task (id, instance_id, process_id, element_id, name, ready_at) "
            "VALUES ('t1', 'i1', 'p', 'e', '审核', '2026-10-01 02:00:00')"
        )
    assert drift(store.engine)  # NOT NULL in the tables, nullable in the database
    store.create_schema()
    assert drift(store.engine) == []
    with store.engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT paused, provisional FROM ready_task")).one()) == (False, False)
    store.close()


def test_the_revisions_make_exactly_the_schema_of_the_tables(db_url: str) -> None:
    """New databases are made from the metadata and stamped (fast); this proves
    the revisions would make the very same schema, on SQLite and PostgreSQL."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        migrations.run_revisions(conn)
    assert version(engine) == migrations.head()
    assert drift(engine) == []
    engine.dispose()


def test_ready_tasks_written_before_the_deadline_unit_get_one(db_url: str) -> None:
    """Revision 0005i on a database with rows: a task whose own open clock counts
    natural days (补正) gets natural days, every other row working days; a row
    with a deadline gets its case's region (whose holidays its working days skip)."""
    engine = make_engine(db_url)
    at, due = datetime(2026, 10, 1, 2, 0), datetime(2026, 10, 9, 16, 0)
    with engine.begin() as conn:
        migrations.run_revisions(conn, "0004t")
        conn.execute(
            text(
                "INSERT INTO instance (id, process_id, version, status, state, revision, created_at, updated_at, "
                "event_count, head_hash, region) VALUES ('i-1', 'dibao', 1, 'running', '{}', 3, :at, :at, 3, 'h', "
                "'CN-XJ')"
            ),
            {"at": at},
        )
        for task, due_at in (("t-correction", due), ("t-review", due), ("t-closed", due), ("t-none", None)):
            conn.execute(
                text(
                    "INSERT INTO ready_task (id, instance_id, process_id, element_id, name, ready_at, due_at, paused, "
                    "provisional) VALUES (:id, 'i-1', 'dibao', 'e', '办理', :at, :due, :no, :no)"
                ),
                {"id": task, "at": at, "due": due_at, "no": False},
            )
        clocks = [
            ("task:t-correction", "natural_days", True),
            ("task:t-review", "working_days", True),
            ("task:t-closed", "natural_days", False),  # closed: the row shows the overall limit's
            ("overall", "working_days", True),
        ]
        for key, unit, is_open in clocks:
            conn.execute(
                text(
                    "INSERT INTO sla_clock (instance_id, key, stage, open, provisional, due_at, body) "
                    "VALUES ('i-1', :key, 's', :open, :no, :at, :body)"
                ),
                {"key": key, "open": is_open, "no": False, "at": due,
                 "body": json.dumps({"key": key, "unit": unit}, sort_keys=True)},
            )  # fmt: skip
    with engine.begin() as conn:
        migrations.run_revisions(conn)
        query = text("SELECT id, due_unit, due_region FROM ready_task")
        rows = {r.id: (r.due_unit, r.due_region) for r in conn.execute(query)}
    assert rows == {
        "t-correction": ("natural_days", "CN-XJ"),
        "t-review": ("working_days", "CN-XJ"),
        "t-closed": ("working_days", "CN-XJ"),
        "t-none": ("working_days", None),
    }
    assert version(engine) == migrations.head() and drift(engine) == []
    engine.dispose()


def test_stores_starting_at_once_upgrade_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    outcomes = at_once(lambda engine: migrations.upgrade(engine).how, engines)
    assert sorted(map(str, outcomes)) == ["created", "current", "current", "current"]
    assert drift(engines[0]) == []
    for e in engines:
        e.dispose()


def test_db_upgrade_makes_the_schema_of_an_empty_sqlite_file_and_then_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")

    def schema() -> list[tuple[str, str]]:
        with sqlite3.connect(path) as conn:
            return sorted(conn.execute("SELECT name, coalesce(sql, '') FROM sqlite_master").fetchall())

    assert cli.main(["db", "upgrade"]) == 0
    assert f"已建立数据库结构（版本 {migrations.head()}）" in capsys.readouterr().out
    made = schema()
    engine = make_engine(f"sqlite:///{path}")
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
    assert version(engine) == migrations.head() and drift(engine) == []
    engine.dispose()

    assert cli.main(["db", "upgrade"]) == 0
    assert "无需升级" in capsys.readouterr().out
    assert schema() == made


def test_open_duplicates_of_before_the_unique_index_still_upgrade_the_oldest_holding_the_number(db_url: str) -> None:
    """Two open 低保 cases for one 身份证号 (accepted before revision 0006a): the
    upgrade keeps the older one as the holder; the later one stays open but does
    not block, and the index then refuses any further open application."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        migrations.run_revisions(conn, "0004t")
        made = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
        conn.execute(
            text(
                "INSERT INTO deployment (content_hash, created_at, actor, documentation_only)"
                " VALUES ('d1', :at, 'designer', '[]')"
            ),
            {"at": made},
        )
        for number, (process_id, one_open) in enumerate([("dibao", True), ("linshi_jinan", False)], start=1):
            conn.execute(
                text(
                    "INSERT INTO process_version (process_id, version, deployment_hash, name, created_at, definition)"
                    " VALUES (:p, :v, 'd1', :p, :at, :d)"
                ),
                {"p": process_id, "v": number, "at": made, "d": json.dumps({"one_open_per_applicant": one_open})},
            )
        cases = [  # id, process, version, status, minutes after ``made``, 身份证号
            ("later", "dibao", 1, "running", 5, "X"),
            ("older", "dibao", 1, "incident", 1, "X"),
            ("ended", "dibao", 1, "completed", 0, "X"),
            ("alone", "dibao", 1, "running", 2, "Y"),
            ("linshi1", "linshi_jinan", 2, "running", 3, "X"),
            ("linshi2", "linshi_jinan", 2, "running", 4, "X"),
        ]
        for case_id, process_id, number, status, minutes, id_number in cases:
            at = made + timedelta(minutes=minutes)
            conn.execute(
                text(
                    "INSERT INTO instance (id, process_id, version, status, state, revision, created_at, updated_at,"
                    " event_count, head_hash) VALUES (:id, :p, :v, :s, '', 1, :at, :at, 0, '')"
                ),
                {"id": case_id, "p": process_id, "v": number, "s": status, "at": at},
            )
            conn.execute(
                text("INSERT INTO applicant_case (instance_id, process_id, id_number) VALUES (:id, :p, :n)"),
                {"id": case_id, "p": process_id, "n": id_number},
            )
    with engine.begin() as conn:
        migrations.run_revisions(conn)
    assert version(engine) == migrations.head() and drift(engine) == []
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT instance_id, blocking FROM applicant_case ORDER BY instance_id")).all()
    assert {r[0]: bool(r[1]) for r in rows} == {
        "alone": True,
        "ended": False,
        "later": False,
        "linshi1": False,
        "linshi2": False,
        "older": True,
    }
    store = SqlStore(engine)
    with store.unit() as unit:
        assert [c.id for c in unit.open_cases_of("dibao", "X")] == ["older", "later"]
        assert unit.add_applicant_case("new", "dibao", "X", blocking=True) is False  # the index holds
        assert unit.add_applicant_case("new", "linshi_jinan", "X", blocking=False) is True  # no rule: no block
    engine.dispose()
