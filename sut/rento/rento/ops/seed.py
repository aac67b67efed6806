"""Deterministic reference data for load, backup and restore suites.

``rento seed`` fills one account with buildings, rooms, renters, contracts, bills and payments.
The same ``--seed`` (and ``--as-of`` date) always gives the same rows. Data is consistent the way
the application keeps it: a room is ``occupied`` exactly when it has an ``active`` contract, a
bill's ``received_amount`` is the sum of its payments and its status agrees with it. Names,
phone numbers and ID-card numbers (with a valid check digit) look like real Chinese data, and a
share of free-text values carry quotes, backslashes, emoji, newlines and markup/SQL-looking text
so that every consumer of the data meets them.

Rows are written with ``COPY`` in one transaction; an account that already has buildings or
renters is refused (``SeedRefused``) so a second run never duplicates anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple

from rento.ops import tablestats
from rento.ops.pgconn import PgTarget, connect

UTC = dt.timezone.utc
DEFAULT_AS_OF = dt.date(2026, 11, 1)
CENT = Decimal("0.01")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉玲建国文斌浩宇欣怡子轩梓涵雨婷晨曦思远嘉怡"
    "俊杰博文佳琪晓东春燕海波志强立新红梅德华秀英淑珍永红宏伟"
)
OCCUPATIONS = (
    "软件工程师",
    "教师",
    "护士",
    "销售经理",
    "设计师",
    "会计",
    "学生",
    "厨师",
    "快递员",
    "医生",
    "公务员",
    "自由职业",
    "外卖骑手",
    "产品经理",
    "律师",
    "摄影师",
    None,
)
ESTATES = (
    "阳光花园",
    "锦绣家园",
    "翠湖苑",
    "金色港湾",
    "和谐小区",
    "幸福里",
    "星河湾",
    "碧桂园",
    "万科城",
    "绿地公寓",
    "紫薇苑",
    "枫林晚公寓",
    "滨江花园",
    "青年汇",
    "明珠大厦",
    "海棠湾",
)
CITIES = (
    ("北京市", ("朝阳区", "海淀区", "东城区", "丰台区"), "110105"),
    ("上海市", ("浦东新区", "徐汇区", "静安区", "闵行区"), "310104"),
    ("广州市", ("天河区", "越秀区", "海珠区"), "440106"),
    ("深圳市", ("南山区", "福田区", "宝安区"), "440305"),
    ("杭州市", ("西湖区", "滨江区", "余杭区"), "330106"),
    ("成都市", ("武侯区", "锦江区", "高新区"), "510107"),
    ("武汉市", ("武昌区", "洪山区", "江汉区"), "420106"),
    ("南京市", ("玄武区", "鼓楼区", "建邺区"), "320102"),
)
ROADS = (
    "建国路",
    "人民路",
    "解放路",
    "中山路",
    "长安街",
    "科技园路",
    "滨河大道",
    "文一西路",
    "天府大道",
)
ID_REGIONS = (
    "110101",
    "110105",
    "310104",
    "310115",
    "440106",
    "440305",
    "330106",
    "510107",
    "420106",
    "320102",
    "610113",
    "370102",
    "500103",
    "430104",
)
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "158",
    "159",
    "166",
    "176",
    "177",
    "180",
    "181",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)
PAYMENT_METHODS = ("cash", "transfer", "wechat", "alipay", "card")
# Values every consumer must store, escape and display faithfully.
TRICKY = (
    'O\'Brien 的 "特殊" 备注',
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(document.cookie)>',
    "Robert'); DROP TABLE renters;--",
    "反斜杠 C:\\temp\\new 与制表符\t结束",
    "emoji 🏠🔑 und ünïcödé ñ",
    "多行备注\n第二行\r\n第三行",
    "' OR '1'='1",
    "{{7*7}} ${7*7} %s %n",
    "null",
    "  前后空格  ",
    "全角：＜ＳＣＲＩＰＴ＞，引号「」『』",
)
TRICKY_NAMES = ("张'三", '李"四"', "<b>王五</b>", "O'Neil 赵", "陈\\六", "🙂 林七")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


class SeedError(Exception):
    pass


class SeedRefused(SeedError):
    """The account already has data."""


@dataclasses.dataclass(frozen=True)
class SeedSpec:
    buildings: int = 200
    rooms: int = 5000
    renters: int = 20000
    contracts: int = 10000
    bills: int = 50000
    payments: Optional[int] = None
    account_id: int = 1
    seed: int = 42
    as_of: dt.date = DEFAULT_AS_OF

    def validate(self) -> None:
        for name in ("buildings", "rooms", "renters", "contracts", "bills"):
            if getattr(self, name) < 0:
                raise SeedError(f"--{name} must not be negative")
        if self.payments is not None and self.payments < 0:
            raise SeedError("--payments must not be negative")
        if self.rooms and not self.buildings:
            raise SeedError("rooms need at least one building")
        if self.contracts and not (self.rooms and self.renters):
            raise SeedError("contracts need rooms and renters")
        if self.bills and not self.contracts:
            raise SeedError("bills need contracts")
        if self.payments and not self.bills:
            raise SeedError("payments need bills")
        if self.account_id < 1:
            raise SeedError("--account-id must be positive")


def id_card_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[total % 11]


def _money(rng: random.Random, low: int, high: int, step: int = 1) -> Decimal:
    return Decimal(rng.randrange(low, high + 1, step))


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year = day.year + month0 // 12
    month = month0 % 12 + 1
    return dt.date(year, month, min(day.day, 28))


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(
        seconds=rng.randrange(0, 86400)
    )


class _Gen:
    """Builds every row in memory (a few hundred thousand tuples at the default volume)."""

    def __init__(self, spec: SeedSpec, bases: Dict[str, int]) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)  # noqa: S311  # nosec B311 - test data, not secrets
        self.bases = bases
        self.as_of = spec.as_of
        self.rows: Dict[str, List[Tuple[Any, ...]]] = {}

    def tricky(self, every: int) -> Optional[str]:
        if self.rng.randrange(every) == 0:
            return self.rng.choice(TRICKY)
        return None

    def person_name(self) -> str:
        rng = self.rng
        if rng.randrange(400) == 0:
            return rng.choice(TRICKY_NAMES)
        surname = rng.choice(COMPOUND_SURNAMES) if rng.randrange(60) == 0 else rng.choice(SURNAMES)
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        return surname + given

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def id_card(self) -> Tuple[str, str]:
        rng = self.rng
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 45))
        seq = rng.randrange(1000)
        gender = "男" if seq % 2 else "女"
        first17 = f"{rng.choice(ID_REGIONS)}{birth:%Y%m%d}{seq:03d}"
        return first17 + id_card_check_digit(first17), gender

    def generate(self) -> None:
        self._buildings()
        self._rooms()
        self._renters()
        self._contracts()
        self._bills_and_payments()
        self._room_rows()

    # -- buildings ------------------------------------------------------------------------
    def _buildings(self) -> None:
        rng, spec = self.rng, self.spec
        base = self.bases["buildings"]
        rows = []
        self.building_floors: List[int] = []
        created0 = dt.datetime(self.as_of.year - 3, 1, 1, 1, tzinfo=UTC)
        for i in range(spec.buildings):
            city, districts, _ = rng.choice(CITIES)
            floors = rng.randrange(3, 31)
            self.building_floors.append(floors)
            name = f"{rng.choice(ESTATES)}{i // len(ESTATES) + 1}号楼"
            if rng.randrange(97) == 0:
                name = f'{name} "A\'座" <南>'
            address = f"{city}{rng.choice(districts)}{rng.choice(ROADS)}{rng.randrange(1, 999)}号"
            description = self.tricky(25) or rng.choice(
                (
                    None,
                    "近地铁站，交通便利",
                    "精装修，拎包入住",
                    "小区环境安静，物业24小时",
                    "电梯房",
                )
            )
            ts = created0 + dt.timedelta(minutes=i)
            rows.append((base + i, spec.account_id, name, address, floors, description, ts, ts))
        self.rows["buildings"] = rows

    # -- rooms ----------------------------------------------------------------------------
    def _rooms(self) -> None:
        rng, spec = self.rng, self.spec
        base = self.bases["rooms"]
        self.room_info: List[Tuple[int, Decimal, Decimal]] = []  # (id, rent, deposit)
        self.room_meta: List[Tuple[Any, ...]] = []
        per = [spec.rooms // spec.buildings] * spec.buildings if spec.buildings else []
        for k in range(spec.rooms - sum(per)):
            per[k] += 1
        rid = base
        created0 = dt.datetime(self.as_of.year - 3, 2, 1, 1, tzinfo=UTC)
        for b, count in enumerate(per):
            floors = self.building_floors[b]
            per_floor = max(1, -(-count // floors))
            for i in range(count):
                floor = i // per_floor + 1
                idx = i % per_floor + 1
                number = f"{floor}{idx:02d}" if idx < 100 else f"{floor}-{idx}"
                area = Decimal(rng.randrange(1500, 12001)) * CENT
                rent = _money(rng, 800, 8000, 50)
                deposit = rent * rng.choice((1, 1, 2))
                ts = created0 + dt.timedelta(seconds=rid - base)
                self.room_meta.append(
                    (rid, self.rows["buildings"][b][0], number, floor, area, rent, deposit, ts)
                )
                self.room_info.append((rid, rent, deposit))
                rid += 1

    def _room_rows(self) -> None:
        rng = random.Random(self.spec.seed + 7)  # noqa: S311  # nosec B311 - test data
        acc = self.spec.account_id
        rows = []
        for rid, bid, number, floor, area, rent, deposit, ts in self.room_meta:
            if rid in self.occupied:
                status = "occupied"
            else:
                status = "maintenance" if rng.randrange(20) == 0 else "vacant"
            rows.append((rid, bid, number, floor, area, rent, deposit, status, ts, ts, acc))
        self.rows["rooms"] = rows

    # -- renters --------------------------------------------------------------------------
    def _renters(self) -> None:
        rng, spec = self.rng, self.spec
        base = self.bases["renters"]
        rows = []
        created0 = dt.datetime(self.as_of.year - 3, 3, 1, 1, tzinfo=UTC)
        for i in range(spec.renters):
            rid = base + i
            id_card, gender = self.id_card()
            name = self.person_name()
            email = None
            if rng.randrange(3):
                email = f"renter{rid}{'+rent' if rng.randrange(10) == 0 else ''}@example.com"
            ts = created0 + dt.timedelta(seconds=i * 7)
            rows.append(
                (
                    rid,
                    spec.account_id,
                    name,
                    self.phone(),
                    id_card if rng.randrange(20) else None,
                    email,
                    gender,
                    rng.choice(OCCUPATIONS),
                    self.person_name() if rng.randrange(4) else None,
                    self.phone() if rng.randrange(4) else None,
                    self.tricky(15),
                    ts,
                    ts,
                )
            )
        self.rows["renters"] = rows

    # -- contracts ------------------------------------------------------------------------
    def _contracts(self) -> None:
        rng, spec = self.rng, self.spec
        base = self.bases["contracts"]
        n = spec.contracts
        active = min(round(n * 0.4), spec.rooms)
        rooms_shuffled = list(range(len(self.room_info)))
        rng.shuffle(rooms_shuffled)
        renter_ids = [r[0] for r in self.rows["renters"]]
        renters_shuffled = list(renter_ids)
        rng.shuffle(renters_shuffled)
        self.occupied = set()
        self.contract_info: List[Tuple[int, str, dt.date, dt.date, Decimal, Decimal, int]] = []
        rows = []
        for i in range(n):
            cid = base + i
            if i < active:
                room_idx = rooms_shuffled[i]
                status = "active"
                renter = renters_shuffled[i % len(renters_shuffled)]
                start = self.as_of - dt.timedelta(days=rng.randrange(0, 331))
                end = start + dt.timedelta(days=rng.choice((365, 365, 730)) - 1)
            else:
                room_idx = rng.randrange(len(self.room_info))
                renter = rng.choice(renter_ids)
                roll = rng.random()
                if roll < 0.65:
                    status = "expired"
                    start = self.as_of - dt.timedelta(days=rng.randrange(400, 1500))
                    end = start + dt.timedelta(days=364)
                elif roll < 0.9:
                    status = "terminated"
                    start = self.as_of - dt.timedelta(days=rng.randrange(60, 1200))
                    end = start + dt.timedelta(days=364)
                else:
                    status = "pending"
                    start = self.as_of + dt.timedelta(days=rng.randrange(1, 61))
                    end = start + dt.timedelta(days=364)
            room_id, room_rent, room_deposit = self.room_info[room_idx]
            if status == "active":
                self.occupied.add(room_id)
                rent = room_rent
            else:
                rent = room_rent + _money(rng, -300, 300, 50)
                rent = max(rent, Decimal(500))
            deposit = rent * rng.choice((1, 1, 2, 0)) if status != "active" else room_deposit
            payment_day = rng.randrange(1, 29)
            number = f"HT{spec.account_id:03d}-{i + 1:07d}"
            ts = dt.datetime(start.year, start.month, start.day, 2, tzinfo=UTC) - dt.timedelta(
                days=rng.randrange(1, 15)
            )
            rows.append(
                (
                    cid,
                    room_id,
                    renter,
                    number,
                    start,
                    end,
                    rent,
                    deposit,
                    payment_day,
                    status,
                    ts,
                    ts,
                    spec.account_id,
                )
            )
            self.contract_info.append((cid, status, start, end, rent, deposit, payment_day))
        self.rows["contracts"] = rows

    # -- bills and payments ---------------------------------------------------------------
    def _bills_and_payments(self) -> None:
        rng, spec = self.rng, self.spec
        base = self.bases["bills"]
        n = spec.bills
        ncon = len(self.contract_info)
        per = [n // ncon] * ncon if ncon else []
        for k in range(n - sum(per)):
            per[k] += 1
        bills: List[List[Any]] = []
        bid = base
        for (cid, cstatus, start, _end, rent, deposit, pday), count in zip(self.contract_info, per):
            for j in range(count):
                if j == 0 and deposit > 0:
                    btype, amount = "deposit", deposit
                    p_start, p_end = None, None
                    due = start
                elif j % 4 == 3:
                    btype = "utility"
                    amount = Decimal(rng.randrange(3000, 60001)) * CENT
                    p_start = _add_months(start, j - 1)
                    p_end = _add_months(start, j) - dt.timedelta(days=1)
                    due = p_end + dt.timedelta(days=10)
                else:
                    btype = "rent" if rng.randrange(40) else "other"
                    amount = rent if btype == "rent" else Decimal(rng.randrange(2000, 50001)) * CENT
                    p_start = _add_months(start, j)
                    p_end = _add_months(start, j + 1) - dt.timedelta(days=1)
                    due = dt.date(p_start.year, p_start.month, min(pday, 28))
                if cstatus == "pending" or due > self.as_of:
                    status = "paid" if rng.randrange(5) == 0 and cstatus != "pending" else "pending"
                else:
                    roll = rng.random()
                    status = (
                        "paid"
                        if roll < 0.75
                        else "partial"
                        if roll < 0.83
                        else "overdue"
                        if roll < 0.95
                        else "cancelled"
                    )
                number = f"ZD{spec.account_id:03d}-{bid - base + 1:08d}"
                remark = self.tricky(40)
                ts = dt.datetime(due.year, due.month, due.day, 1, tzinfo=UTC) - dt.timedelta(
                    days=20
                )
                bills.append(
                    [
                        bid,
                        cid,
                        number,
                        btype,
                        amount,
                        Decimal(0),
                        p_start,
                        p_end,
                        due,
                        status,
                        remark,
                        ts,
                        ts,
                        spec.account_id,
                    ]
                )
                bid += 1
        self._payments(bills)
        self.rows["bills"] = [tuple(b) for b in bills]

    def _payments(self, bills: List[List[Any]]) -> None:
        rng, spec = self.rng, self.spec
        paying = [b for b in bills if b[9] in ("paid", "partial")]
        # received amount in cents per paying bill, and number of payments
        cents: Dict[int, int] = {}
        counts: Dict[int, int] = {}
        for b in paying:
            total = int(b[4] / CENT)
            if b[9] == "partial":
                total = rng.randrange(1, total) if total > 1 else total
            cents[b[0]] = total
            roll = rng.random()
            counts[b[0]] = 1 if roll < 0.7 else 2 if roll < 0.95 else 3
        if spec.payments is not None:
            target = spec.payments
            if target < len(paying):
                for b in paying[target:]:
                    b[9] = "overdue" if b[8] <= self.as_of else "pending"
                    cents.pop(b[0])
                    counts.pop(b[0])
                paying = paying[:target]
                for b in paying:
                    counts[b[0]] = 1
            else:
                total = sum(counts.values())
                order = [b[0] for b in paying]
                guard = 0
                while total != target and order:
                    for key in order:
                        if total == target:
                            break
                        if total > target and counts[key] > 1:
                            counts[key] -= 1
                            total -= 1
                        elif total < target and counts[key] < min(cents[key], 50):
                            counts[key] += 1
                            total += 1
                    guard += 1
                    if guard > 100:
                        raise SeedError(
                            f"cannot spread {target} payments over {len(paying)} paid bills"
                        )
        base = self.bases["payments"]
        pid = base
        rows = []
        for b in paying:
            if b[0] not in cents:
                continue
            total, m = cents[b[0]], min(counts[b[0]], cents[b[0]])
            cuts = sorted(rng.sample(range(1, total), m - 1)) if m > 1 else []
            parts = [hi - lo for lo, hi in zip([0, *cuts], [*cuts, total])]
            b[5] = Decimal(total) * CENT
            due: dt.date = b[8]
            for part in parts:
                paid_day = due + dt.timedelta(days=rng.randrange(-5, 10))
                paid_day = min(paid_day, self.as_of)
                paid_at = _at(paid_day, rng)
                reference = self.tricky(30) or (
                    f"TX{rng.randrange(10**12):012d}" if rng.randrange(3) else None
                )
                rows.append(
                    (
                        pid,
                        b[0],
                        Decimal(part) * CENT,
                        rng.choice(PAYMENT_METHODS),
                        paid_at,
                        reference,
                        paid_at,
                        paid_at,
                        spec.account_id,
                    )
                )
                pid += 1
        self.rows["payments"] = rows


# COPY column lists. The tables owned through a parent get the seeded account_id last.
COLUMNS = {
    "buildings": (
        "id",
        "account_id",
        "name",
        "address",
        "floors",
        "description",
        "created_at",
        "updated_at",
    ),
    "rooms": (
        "id",
        "building_id",
        "number",
        "floor",
        "area",
        "rent",
        "deposit",
        "status",
        "created_at",
        "updated_at",
        "account_id",
    ),
    "renters": (
        "id",
        "account_id",
        "name",
        "phone",
        "id_card",
        "email",
        "gender",
        "occupation",
        "emergency_contact",
        "emergency_phone",
        "remark",
        "created_at",
        "updated_at",
    ),
    "contracts": (
        "id",
        "room_id",
        "renter_id",
        "contract_number",
        "start_date",
        "end_date",
        "monthly_rent",
        "deposit",
        "payment_day",
        "status",
        "created_at",
        "updated_at",
        "account_id",
    ),
    "bills": (
        "id",
        "contract_id",
        "bill_number",
        "type",
        "amount",
        "received_amount",
        "period_start",
        "period_end",
        "due_date",
        "status",
        "remark",
        "created_at",
        "updated_at",
        "account_id",
    ),
    "payments": (
        "id",
        "bill_id",
        "amount",
        "method",
        "paid_at",
        "reference",
        "created_at",
        "updated_at",
        "account_id",
    ),
}
ORDER = ("buildings", "rooms", "renters", "contracts", "bills", "payments")


def _reserve_ids(cur: Any, table: str, count: int) -> int:
    """First id of a block of ``count`` ids, taken from the table's identity sequence."""
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (f"public.{table}",))
    row = cur.fetchone()
    seq = row[0] if row else None
    from psycopg import sql

    cur.execute(sql.SQL("SELECT COALESCE(max(id), 0) FROM {}").format(sql.Identifier(table)))
    max_id = int(cur.fetchone()[0])
    if not seq:
        return max_id + 1
    if count == 0:  # only make sure the sequence is past every existing id
        cur.execute("SELECT setval(%s, GREATEST(nextval(%s), %s))", (seq, seq, max(max_id, 1)))
        return max_id + 1
    cur.execute(
        "SELECT setval(%s, GREATEST(nextval(%s), %s) + %s - 1)",
        (seq, seq, max_id + 1, count),
    )
    end = int(cur.fetchone()[0])
    return end - count + 1


def _write(cur: Any, table: str, rows: Sequence[Tuple[Any, ...]]) -> None:
    from psycopg import sql

    if not rows:
        return
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS[table])
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), cols)) as copy:
        for row in rows:
            copy.write_row(row)


_CHECKS = {
    "rooms occupied without an active contract or active contract on a non-occupied room": """
        SELECT count(*) FROM rooms r JOIN buildings b ON b.id = r.building_id
        WHERE b.account_id = %(a)s AND (r.status = 'occupied') <> EXISTS (
            SELECT 1 FROM contracts c WHERE c.room_id = r.id AND c.status = 'active')
    """,
    "bills whose received_amount differs from the sum of their payments": """
        SELECT count(*) FROM bills bl
        JOIN contracts c ON c.id = bl.contract_id
        JOIN rooms r ON r.id = c.room_id
        JOIN buildings b ON b.id = r.building_id
        WHERE b.account_id = %(a)s AND bl.received_amount <> COALESCE(
            (SELECT sum(p.amount) FROM payments p WHERE p.bill_id = bl.id), 0)
    """,
}


def seed(database_url: str, spec: SeedSpec) -> Dict[str, Any]:
    spec.validate()
    t0 = time.monotonic()
    target = PgTarget.from_url(database_url)
    with connect(target, autocommit=True) as conn:
        tablestats.pin_session(conn)
        conn.autocommit = False
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "LOCK TABLE accounts, buildings, rooms, renters, contracts, bills, payments "
                "IN SHARE ROW EXCLUSIVE MODE"
            )
            cur.execute(
                "SELECT (SELECT count(*) FROM buildings WHERE account_id = %(a)s),"
                " (SELECT count(*) FROM renters WHERE account_id = %(a)s)",
                {"a": spec.account_id},
            )
            nb, nr = cur.fetchone()
            if nb or nr:
                raise SeedRefused(
                    f"account {spec.account_id} already has data ({nb} buildings, {nr} renters); "
                    "refusing to seed it again"
                )
            cur.execute("SELECT 1 FROM accounts WHERE id = %s", (spec.account_id,))
            created_account = cur.fetchone() is None
            if created_account:
                cur.execute(
                    "INSERT INTO accounts (id, name) OVERRIDING SYSTEM VALUE VALUES (%s, %s)",
                    (spec.account_id, f"演示租赁公司 {spec.account_id}"),
                )
                _reserve_ids(cur, "accounts", 0)
            sizes = {
                "buildings": spec.buildings,
                "rooms": spec.rooms,
                "renters": spec.renters,
                "contracts": spec.contracts,
                "bills": spec.bills,
            }
            bases = {t: _reserve_ids(cur, t, sizes[t]) for t in ORDER if t != "payments"}
            bases["payments"] = 0  # numbered after generation, when their count is known
            t_gen = time.monotonic()
            gen = _Gen(spec, bases)
            gen.generate()
            first = _reserve_ids(cur, "payments", len(gen.rows["payments"]))
            gen.rows["payments"] = [(first + r[0], *r[1:]) for r in gen.rows["payments"]]
            gen_seconds = time.monotonic() - t_gen
            t_copy = time.monotonic()
            for table in ORDER:
                _write(cur, table, gen.rows[table])
            copy_seconds = time.monotonic() - t_copy
            for label, query in _CHECKS.items():
                cur.execute(query, {"a": spec.account_id})
                bad = int(cur.fetchone()[0])
                if bad:
                    raise SeedError(f"consistency check failed: {bad} {label}")
        # Bulk-loaded tables have no planner statistics and no visibility map until autovacuum
        # comes by; until then scoped counts and lists get poor plans. Do it now.
        t_vacuum = time.monotonic()
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) " + ", ".join(ORDER))
        vacuum_seconds = time.monotonic() - t_vacuum
    counts = {t: len(gen.rows[t]) for t in ORDER}
    return {
        "status": "ok",
        "account_id": spec.account_id,
        "account_created": created_account,
        "seed": spec.seed,
        "as_of": spec.as_of.isoformat(),
        "rows": counts,
        "total_rows": sum(counts.values()),
        "generate_seconds": round(gen_seconds, 3),
        "copy_seconds": round(copy_seconds, 3),
        "vacuum_seconds": round(vacuum_seconds, 3),
        "seconds": round(time.monotonic() - t0, 3),
    }
