"""Reference data: deterministic, consistent, refuses to seed an account twice."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import psycopg

from rento.ops import tablestats
from rento.ops.pgconn import PgTarget
from rento.ops.seed import id_card_check_digit

from .ops_helpers import create_schema, last_json, ops_env, run_cli

ARGS = [
    "--buildings",
    "5",
    "--rooms",
    "60",
    "--renters",
    "80",
    "--contracts",
    "50",
    "--bills",
    "200",
    "--seed",
    "3",
]


ROOMS_OCCUPIED_IFF_ACTIVE = """
SELECT count(*) FROM rooms r WHERE (r.status = 'occupied') <> EXISTS (
    SELECT 1 FROM contracts c WHERE c.room_id = r.id AND c.status = 'active')
"""
RECEIVED_EQUALS_PAYMENTS = """
SELECT count(*) FROM bills b WHERE b.received_amount <>
    COALESCE((SELECT sum(amount) FROM payments p WHERE p.bill_id = b.id), 0)
"""
PAID_BILLS_NOT_FULLY_PAID = (
    "SELECT count(*) FROM bills WHERE status = 'paid' AND received_amount <> amount"
)
BAD_CONTRACT_DATES = "SELECT count(*) FROM contracts WHERE end_date < start_date"
FREE_TEXT = (
    "SELECT concat_ws(' ', name, remark) FROM renters UNION ALL "
    "SELECT concat_ws(' ', name, description) FROM buildings"
)


def _conn(url: str) -> psycopg.Connection:
    return psycopg.connect(**PgTarget.from_url(url).connect_kwargs(), autocommit=True)


def test_seed_small_volume(
    schema_db: str, new_database: Callable[..., str], tmp_path: Path
) -> None:
    env = ops_env(schema_db, tmp_path / "b")
    proc = run_cli(["seed", *ARGS, "--payments", "150"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = last_json(proc.stdout)
    assert result["rows"] == {
        "buildings": 5,
        "rooms": 60,
        "renters": 80,
        "contracts": 50,
        "bills": 200,
        "payments": 150,
    }

    with _conn(schema_db) as conn:

        def scalar(query: str) -> object:
            row = conn.execute(query).fetchone()
            assert row is not None
            return row[0]

        assert scalar("SELECT count(*) FROM payments") == 150
        assert scalar(ROOMS_OCCUPIED_IFF_ACTIVE) == 0
        assert scalar("SELECT count(*) FROM rooms WHERE status = 'occupied'") > 0
        assert scalar(RECEIVED_EQUALS_PAYMENTS) == 0
        assert scalar(PAID_BILLS_NOT_FULLY_PAID) == 0
        assert scalar(BAD_CONTRACT_DATES) == 0
        for (card,) in conn.execute("SELECT id_card FROM renters WHERE id_card IS NOT NULL"):
            assert len(card) == 18 and card[-1] == id_card_check_digit(card[:17])
        texts = " ".join(r[0] or "" for r in conn.execute(FREE_TEXT))
        assert any(ord(ch) > 0x4E00 for ch in texts)  # Chinese text present
        # identity sequences continue after the seeded ids
        seeded_max = scalar("SELECT max(id) FROM buildings")
        new_id = scalar("INSERT INTO buildings (account_id, name) VALUES (1, 'x') RETURNING id")
        assert new_id > seeded_max
        conn.execute("DELETE FROM buildings WHERE id = %s", (new_id,))

    again = run_cli(["seed", *ARGS], env)
    assert again.returncode == 3
    assert "already has data" in last_json(again.stdout)["error"]
    skipped = run_cli(["seed", *ARGS, "--skip-if-present"], env)
    assert skipped.returncode == 0 and last_json(skipped.stdout)["status"] == "skipped"

    # Deterministic: the same arguments give the same rows in another database.
    other = new_database("seed2")
    create_schema(other)
    proc = run_cli(["seed", *ARGS, "--payments", "150", "--database-url", other], env)
    assert proc.returncode == 0, proc.stderr
    with _conn(schema_db) as a, _conn(other) as b:
        for conn in (a, b):
            tablestats.pin_session(conn)
        tables = [("public", t) for t in ("rooms", "renters", "contracts", "bills", "payments")]
        assert tablestats.collect(a, tables) == tablestats.collect(b, tables)
