"""The database in traces: a span per transaction, and per SQL statement when asked.

The tracer provider and the instrumentation are process-wide, so the traced code runs in a
process of its own, started as a service starts: ``configure_telemetry`` first, then a
real database (SQLite) and units of work, one inside a request span and one outside any.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind
    from shoplab.platform.persistence.database import Database
    from shoplab.platform.settings import PlatformSettings
    from shoplab.platform.telemetry.setup import configure_telemetry
    from shoplab.platform.persistence.unit_of_work import SqlUnitOfWork

    class OrdersUnitOfWork(SqlUnitOfWork):
        pass

    data_dir = Path(sys.argv[1])
    configure_telemetry("orders", PlatformSettings(data_dir=data_dir))

    async def main() -> None:
        database = Database(
            f"sqlite:///{data_dir / 'orders.db'}", trace_statements=sys.argv[2] == "true"
        )
        async with OrdersUnitOfWork(database) as uow:  # background work: no trace
            await uow.sql.execute("create table t (a integer)")
            await uow.commit()
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span("POST /api/orders", kind=SpanKind.SERVER):
            async with OrdersUnitOfWork(database) as uow:
                await uow.sql.execute("insert into t (a) values (1)")
                await uow.sql.one("select count(*) from t")
                await uow.commit()
        await database.dispose()

    asyncio.run(main())
    trace.get_tracer_provider().shutdown()
    """
)


def spans_written(data_dir: Path, *, trace_sql: bool) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(data_dir), str(trace_sql).lower()],
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (data_dir / "traces" / "orders-1.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_transaction_is_one_span_under_its_request(tmp_path: Path) -> None:
    spans = spans_written(tmp_path, trace_sql=False)

    [request] = [s for s in spans if s["name"] == "POST /api/orders"]
    [transaction] = [s for s in spans if s["name"] == "transaction orders"]
    assert transaction["parent_id"] == request["span_id"]
    assert transaction["kind"] == "CLIENT"
    assert transaction["attributes"] == {
        "db.system.name": "sqlite",
        "db.transaction.outcome": "commit",
    }
    assert len(spans) == 2, "a span per statement, or a trace of the background transaction"


def test_with_sql_tracing_each_statement_is_one_span_under_its_request(tmp_path: Path) -> None:
    spans = spans_written(tmp_path, trace_sql=True)

    [request] = [s for s in spans if s["name"] == "POST /api/orders"]
    statements = [s for s in spans if s["attributes"].get("db.statement")]
    assert sorted(s["attributes"]["db.statement"] for s in statements) == [
        "insert into t (a) values (1)",
        "select count(*) from t",
    ]
    assert {s["parent_id"] for s in statements} == {request["span_id"]}
    assert {s["trace_id"] for s in spans} == {request["trace_id"]}
    assert all(s["kind"] == "CLIENT" for s in statements)
