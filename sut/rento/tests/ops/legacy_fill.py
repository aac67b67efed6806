"""Fill a legacy SQLite database with every storage style the old application produced."""

from __future__ import annotations

import random
import sqlite3
from typing import Dict

TRICKY = [
    'O\'Brien "引号"',
    "<script>alert(1)</script>",
    "反斜杠 C:\\temp\\x",
    "emoji 🏠 ünïcödé",
    "多行\n第二行",
    "Robert'); DROP TABLE renters;--",
]


def fill(path: str, scale: int = 1, seed: int = 7) -> Dict[str, int]:
    """Insert rows into every table of a database made by ``rento sqlite-init``.

    Mixes representations on purpose: timestamps as ISO text (with ``T`` or a space, with
    ``Z``, an offset or none, with and without fractions) and as epoch milliseconds; money as
    REAL, TEXT and INTEGER; booleans as 0/1 and 'true'/'false'; NULLs in every nullable column.
    """
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    counts: Dict[str, int] = {}

    def ts(i: int) -> object:
        style = i % 6
        if style == 0:
            return f"2025-0{1 + i % 9}-1{i % 10} 08:30:1{i % 10}"
        if style == 1:
            return f"2025-03-0{1 + i % 9}T12:00:00.{i % 1000:03d}Z"
        if style == 2:
            return f"2025-04-1{i % 10}T23:15:00+08:00"
        if style == 3:
            return 1735689600000 + i * 61_123  # epoch milliseconds (2025-01-01 UTC onwards)
        if style == 4:
            return f"2025-05-2{i % 8} 10:11:12.123456"
        return f"2025-06-0{1 + i % 9}T07:08:09"

    def money(i: int, low: int = 100, high: int = 9000) -> object:
        cents = rng.randrange(low * 100, high * 100)
        style = i % 3
        if style == 0:
            return cents / 100.0
        if style == 1:
            return f"{cents // 100}.{cents % 100:02d}"
        return cents // 100

    with con:
        n_acc = 2
        for a in range(1, n_acc + 1):
            con.execute(
                "INSERT INTO accounts (id, name, created_at, updated_at) VALUES (?,?,?,?)",
                (a, f"账户 {a} {TRICKY[a % len(TRICKY)]}", ts(a), ts(a + 1)),
            )
        counts["accounts"] = n_acc
        n_users = 4 * scale
        for u in range(1, n_users + 1):
            con.execute(
                "INSERT INTO users (id, account_id, username, password_hash, role, is_active,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    u,
                    1 + u % n_acc,
                    f"user{u}",
                    "pbkdf2$x$y",
                    ("admin", "staff")[u % 2],
                    (1, 0, "true", "false")[u % 4],
                    ts(u),
                    ts(u),
                ),
            )
        counts["users"] = n_users
        # account of each building, room, contract and bill: children belong to their parent's
        building_acc: Dict[int, int] = {}
        room_acc: Dict[int, int] = {}
        contract_acc: Dict[int, int] = {}
        bill_acc: Dict[int, int] = {}
        n_b = 5 * scale
        for b in range(1, n_b + 1):
            building_acc[b] = 1 + b % n_acc
            con.execute(
                "INSERT INTO buildings (id, account_id, name, address, floors, description,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    b,
                    building_acc[b],
                    f"阳光花园{b}栋",
                    None if b % 4 == 0 else f"北京市朝阳区{b}号",
                    None if b % 5 == 0 else 6 + b % 20,
                    TRICKY[b % len(TRICKY)] if b % 2 else None,
                    ts(b),
                    ts(b + 2),
                ),
            )
        counts["buildings"] = n_b
        n_rooms = 20 * scale
        for r in range(1, n_rooms + 1):
            room_acc[r] = building_acc[1 + r % n_b]
            con.execute(
                "INSERT INTO rooms (id, account_id, building_id, number, floor, area, rent,"
                " deposit, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    r,
                    room_acc[r],
                    1 + r % n_b,
                    f"{100 + r}",
                    None if r % 7 == 0 else 1 + r % 6,
                    None if r % 3 == 0 else money(r, 10, 120),
                    money(r),
                    money(r + 1),
                    ("vacant", "occupied", "maintenance")[r % 3],
                    ts(r),
                    ts(r),
                ),
            )
        counts["rooms"] = n_rooms
        n_renters = 30 * scale
        for p in range(1, n_renters + 1):
            con.execute(
                "INSERT INTO renters (id, account_id, name, phone, id_card, email, gender,"
                " occupation, emergency_contact, emergency_phone, remark, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    p,
                    1 + p % n_acc,
                    f"张{p}" if p % 9 else 'O\'Neil "老王"',
                    f"138{p:08d}",
                    None if p % 4 == 0 else f"11010119900101{p % 1000:03d}X",
                    None if p % 2 else f"r{p}@example.com",
                    ("男", "女", None)[p % 3],
                    "教师",
                    None,
                    None,
                    TRICKY[p % len(TRICKY)] if p % 3 == 0 else None,
                    ts(p),
                    ts(p),
                ),
            )
        counts["renters"] = n_renters
        n_con = 25 * scale
        for c in range(1, n_con + 1):
            start = f"2025-{1 + c % 12:02d}-0{1 + c % 9}"
            contract_acc[c] = room_acc[1 + c % n_rooms]
            con.execute(
                "INSERT INTO contracts (id, account_id, room_id, renter_id, contract_number,"
                " start_date, end_date, monthly_rent, deposit, payment_day, status, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    c,
                    contract_acc[c],
                    1 + c % n_rooms,
                    1 + c % n_renters,
                    f"HT-{c:05d}",
                    start if c % 4 else 1735689600000 + c * 86_400_000,
                    f"2026-{1 + c % 12:02d}-0{1 + c % 9}" if c % 5 else "2026-12-31T00:00:00Z",
                    money(c),
                    money(c + 2),
                    1 + c % 28,
                    ("active", "expired", "terminated", "pending")[c % 4],
                    ts(c),
                    ts(c),
                ),
            )
        counts["contracts"] = n_con
        n_bills = 60 * scale
        for b in range(1, n_bills + 1):
            bill_acc[b] = contract_acc[1 + b % n_con]
            con.execute(
                "INSERT INTO bills (id, account_id, contract_id, bill_number, type, amount,"
                " received_amount, period_start, period_end, due_date, status, remark, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    b,
                    bill_acc[b],
                    1 + b % n_con,
                    f"ZD-{b:06d}",
                    ("rent", "deposit", "utility", "other")[b % 4],
                    money(b),
                    0 if b % 3 else money(b, 1, 50),
                    None if b % 5 == 0 else "2025-01-01",
                    None if b % 5 == 0 else "2025-01-31",
                    f"2025-02-{1 + b % 28:02d}",
                    ("pending", "paid", "partial", "overdue", "cancelled")[b % 5],
                    TRICKY[b % len(TRICKY)] if b % 4 == 0 else None,
                    ts(b),
                    ts(b),
                ),
            )
        counts["bills"] = n_bills
        n_pay = 50 * scale
        for p in range(1, n_pay + 1):
            con.execute(
                "INSERT INTO payments (id, account_id, bill_id, amount, method, paid_at,"
                " reference, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    p,
                    bill_acc[1 + p % n_bills],
                    1 + p % n_bills,
                    money(p, 1, 500),
                    ("cash", "transfer", "wechat", "alipay", "card")[p % 5],
                    ts(p + 3),
                    None if p % 2 else f"TX{p:010d}",
                    ts(p),
                    ts(p),
                ),
            )
        counts["payments"] = n_pay
    con.close()
    return counts
