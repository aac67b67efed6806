"""Request and response models.

Pydantic evaluates these annotations at runtime, so they use ``Optional``/``List`` (Python 3.9).
Input limits mirror the column sizes so that the database never sees a value it would reject:
a rejected value is a 422 here, not a 500 from the driver.

PATCH models: a nullable column is ``Optional[...]`` (``null`` clears it); a NOT NULL column is
typed without ``Optional`` but defaults to None, so omitting it leaves it alone while an explicit
``null`` is a validation error.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import (
    Annotated,
    Any,
    Generic,
    List,
    Literal,
    Optional,
    Set,
    TypeVar,
    get_args,
    get_origin,
)

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

T = TypeVar("T")

# --- value types -------------------------------------------------------------------------------
# Each type validates exactly what its JSON Schema promises, no more and no less: a schema-driven
# fuzzer must see every schema-valid request accepted and every schema-invalid one rejected.

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL characters
Text = Annotated[str, Field(pattern=NO_NUL)]
Phone = Annotated[str, Field(max_length=32, pattern=NO_NUL)]

CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999.99")  # numeric(12,2)
AREA_MAX = Decimal("99999999.99")  # numeric(10,2)
# Decimal strings: no sign, no exponent, no leading zeros, at most two decimal places.
NON_NEGATIVE_RE = r"^(0|[1-9]\d{0,9})(\.\d{1,2})?$"  # up to 9999999999.99
POSITIVE_RE = r"^([1-9]\d{0,9}(\.\d{1,2})?|0\.(0[1-9]|[1-9]\d?))$"  # 0.01 .. 9999999999.99
AREA_RE = r"^(0|[1-9]\d{0,7})(\.\d{1,2})?$"  # up to 99999999.99


def _decimal_parser(pattern: str) -> Any:
    compiled = re.compile(pattern)

    def parse(value: Any) -> Any:
        """A JSON number (rounded half-up to cents) or a decimal string with at most 2 places."""
        if isinstance(value, bool):
            raise ValueError("must be a number or a decimal string")
        if isinstance(value, (int, float)):
            number = Decimal(str(value))
            if not number.is_finite():
                raise ValueError("must be a finite number")
            try:
                return number.quantize(CENT, rounding=ROUND_HALF_UP)
            except InvalidOperation:
                raise ValueError("is out of range") from None
        if isinstance(value, str) and compiled.match(value):
            return Decimal(value)
        if isinstance(value, Decimal):
            return value
        raise ValueError('must be a number or a decimal string like "1500.00"')

    return BeforeValidator(parse)


def _decimal_schema(pattern: str, minimum: str, maximum: Decimal) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": float(minimum), "maximum": float(maximum)},
                {"type": "string", "pattern": pattern},
            ]
        }
    )


Money = Annotated[
    Decimal,
    _decimal_parser(NON_NEGATIVE_RE),
    Field(ge=0, le=MONEY_MAX),
    _decimal_schema(NON_NEGATIVE_RE, "0", MONEY_MAX),
]
PositiveMoney = Annotated[
    Decimal,
    _decimal_parser(POSITIVE_RE),
    Field(ge=CENT, le=MONEY_MAX),
    _decimal_schema(POSITIVE_RE, "0.01", MONEY_MAX),
]
Area = Annotated[
    Decimal,
    _decimal_parser(AREA_RE),
    Field(ge=0, le=AREA_MAX),
    _decimal_schema(AREA_RE, "0", AREA_MAX),
]


Int = int  # see InputModel._no_coercion
DbId = Annotated[int, Field(ge=1, le=2_147_483_647)]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # Lax mode would also take 0 or "0" as a Unix timestamp.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be a date like 2026-11-21")


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, (dt.datetime, str)) and not str(value).isdigit():
        return value
    raise ValueError("must be a timestamp like 2026-11-21T10:00:00Z")


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
DateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime)]

# Amounts leave the API as strings with exactly two decimals ("1500.00"), whatever the input was.
DecimalOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]

RoomStatus = Literal["vacant", "occupied", "maintenance"]
SettableRoomStatus = Literal["vacant", "maintenance"]
ContractStatus = Literal["active", "expired", "terminated", "pending"]
BillType = Literal["rent", "deposit", "utility", "other"]
BillStatus = Literal["pending", "paid", "partial", "overdue", "cancelled"]
SettableBillStatus = Literal["pending", "overdue", "cancelled"]
PaymentMethod = Literal["cash", "transfer", "wechat", "alipay", "card"]
Role = Literal["admin", "staff"]


def check_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded as UTF-8."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _types_in(annotation: Any) -> Set[Any]:
    """The concrete types inside Optional[...] / Annotated[...] / Union[...]."""
    args = get_args(annotation)
    if not args:
        return {annotation}
    if get_origin(annotation) is Literal:
        return {str}
    found: Set[Any] = set()
    for arg in args:
        found |= _types_in(arg)
    return found


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        # Lax mode would take true or "5" for an integer, which JSON Schema calls not-an-integer
        # (5.0 is fine for both). Strict mode cannot be used: it would also refuse 5.0.
        if info.field_name and isinstance(value, (bool, str)):
            types = _types_in(cls.model_fields[info.field_name].annotation)
            if (
                int in types
                and str not in types
                and not (bool in types and isinstance(value, bool))
            ):
                raise ValueError("must be an integer")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return check_text(value) if isinstance(value, str) else value


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: List[T]
    total: int
    page: int
    page_size: int


# --- auth, users, accounts -------------------------------------------------------------------


class LoginRequest(InputModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret
    role: Role
    expires_in: int


Username = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
NewPassword = Annotated[str, Field(min_length=8, max_length=128, pattern=NO_NUL)]


class UserCreate(InputModel):
    username: Username
    password: NewPassword
    role: Role = "staff"


class UserUpdate(InputModel):
    role: Role = Field(default=None)
    is_active: StrictBool = Field(default=None)
    password: NewPassword = Field(default=None)


class UserOut(OutputModel):
    id: int
    account_id: int
    username: str
    role: Role
    is_active: bool
    created_at: dt.datetime


class AccountCreate(InputModel):
    name: Text = Field(min_length=1, max_length=200)
    admin_username: Username
    admin_password: NewPassword


class AccountCreated(BaseModel):
    account_id: int
    name: str
    admin_user_id: int
    admin_username: str


# --- buildings and rooms ---------------------------------------------------------------------


class BuildingCreate(InputModel):
    name: Text = Field(min_length=1, max_length=200)
    address: Optional[Text] = Field(default=None, max_length=500)
    floors: Optional[Int] = Field(default=None, ge=0, le=500)
    description: Optional[Text] = Field(default=None, max_length=5000)


class BuildingUpdate(InputModel):
    name: Text = Field(default=None, min_length=1, max_length=200)
    address: Optional[Text] = Field(default=None, max_length=500)
    floors: Optional[Int] = Field(default=None, ge=0, le=500)
    description: Optional[Text] = Field(default=None, max_length=5000)


class BuildingOut(OutputModel):
    id: int
    account_id: int
    name: str
    address: Optional[str]
    floors: Optional[int]
    description: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class RoomCreate(InputModel):
    building_id: DbId
    number: Text = Field(min_length=1, max_length=32)
    floor: Optional[Int] = Field(default=None, ge=-10, le=500)
    area: Optional[Area] = None
    rent: Money
    deposit: Money = Decimal("0")
    status: SettableRoomStatus = "vacant"


class RoomUpdate(InputModel):
    number: Text = Field(default=None, min_length=1, max_length=32)
    floor: Optional[Int] = Field(default=None, ge=-10, le=500)
    area: Optional[Area] = None
    rent: Money = Field(default=None)
    deposit: Money = Field(default=None)
    status: SettableRoomStatus = Field(default=None)


class RoomOut(OutputModel):
    id: int
    building_id: int
    number: str
    floor: Optional[int]
    area: Optional[DecimalOut]
    rent: DecimalOut
    deposit: DecimalOut
    status: RoomStatus
    created_at: dt.datetime
    updated_at: dt.datetime


# --- renters ---------------------------------------------------------------------------------


class RenterCreate(InputModel):
    name: Text = Field(min_length=1, max_length=100)
    phone: Optional[Phone] = None
    id_card: Optional[Text] = Field(default=None, max_length=32)
    email: Optional[Text] = Field(default=None, max_length=254)
    gender: Optional[Text] = Field(default=None, max_length=16)
    occupation: Optional[Text] = Field(default=None, max_length=100)
    emergency_contact: Optional[Text] = Field(default=None, max_length=100)
    emergency_phone: Optional[Phone] = None
    remark: Optional[Text] = Field(default=None, max_length=5000)


class RenterUpdate(RenterCreate):
    name: Text = Field(default=None, min_length=1, max_length=100)


class RenterOut(OutputModel):
    id: int
    account_id: int
    name: str
    phone: Optional[str]
    id_card: Optional[str]
    email: Optional[str]
    gender: Optional[str]
    occupation: Optional[str]
    emergency_contact: Optional[str]
    emergency_phone: Optional[str]
    remark: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime


# --- contracts -------------------------------------------------------------------------------

ContractNumber = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_./-]+$")]


class ContractCreate(InputModel):
    room_id: DbId
    renter_id: DbId
    contract_number: Optional[ContractNumber] = None
    start_date: Date
    end_date: Date
    monthly_rent: Optional[Money] = None
    deposit: Optional[Money] = None
    payment_day: Optional[Int] = Field(default=None, ge=1, le=31)
    status: Literal["active", "pending"] = "active"


class ContractUpdate(InputModel):
    end_date: Date = Field(default=None)
    monthly_rent: Money = Field(default=None)
    deposit: Money = Field(default=None)
    payment_day: Int = Field(default=None, ge=1, le=31)
    status: ContractStatus = Field(default=None)


class ContractOut(OutputModel):
    id: int
    room_id: int
    renter_id: int
    contract_number: str
    start_date: dt.date
    end_date: dt.date
    monthly_rent: DecimalOut
    deposit: DecimalOut
    payment_day: int
    status: ContractStatus
    created_at: dt.datetime
    updated_at: dt.datetime


class GenerateBills(InputModel):
    months: Int = Field(ge=1, le=36)


# --- bills and payments ----------------------------------------------------------------------


class BillCreate(InputModel):
    contract_id: DbId
    bill_number: Optional[ContractNumber] = None
    type: BillType = "rent"
    amount: Money
    period_start: Optional[Date] = None
    period_end: Optional[Date] = None
    due_date: Date
    remark: Optional[Text] = Field(default=None, max_length=5000)


class BillUpdate(InputModel):
    amount: Money = Field(default=None)
    period_start: Optional[Date] = None
    period_end: Optional[Date] = None
    due_date: Date = Field(default=None)
    status: SettableBillStatus = Field(default=None)
    remark: Optional[Text] = Field(default=None, max_length=5000)


class BillOut(OutputModel):
    id: int
    contract_id: int
    bill_number: str
    type: BillType
    amount: DecimalOut
    received_amount: DecimalOut
    period_start: Optional[dt.date]
    period_end: Optional[dt.date]
    due_date: dt.date
    status: BillStatus
    remark: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class GeneratedBills(BaseModel):
    items: List[BillOut]
    total: int


class PaymentCreate(InputModel):
    bill_id: DbId
    amount: PositiveMoney
    method: PaymentMethod
    reference: Optional[Text] = Field(default=None, max_length=128)
    paid_at: Optional[DateTime] = None

    @field_validator("paid_at")
    @classmethod
    def _utc(cls, value: Optional[dt.datetime]) -> Optional[dt.datetime]:
        # A timestamp without zone is taken as UTC rather than the server's local time.
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        try:
            utc = value.astimezone(dt.timezone.utc)
        except OverflowError:
            raise ValueError("is out of range") from None
        if not 1 < utc.year < 9999:
            raise ValueError("is out of range")
        return utc


class PaymentUpdate(InputModel):
    method: PaymentMethod = Field(default=None)
    reference: Optional[Text] = Field(default=None, max_length=128)


class PaymentOut(OutputModel):
    id: int
    bill_id: int
    amount: DecimalOut
    method: PaymentMethod
    paid_at: dt.datetime
    reference: Optional[str]
    created_at: dt.datetime
    updated_at: dt.datetime


# --- dashboard -------------------------------------------------------------------------------


class BillStats(BaseModel):
    pending_count: int
    pending_amount: str
    paid_count: int
    paid_amount: str
    overdue_count: int


class DashboardStats(BaseModel):
    buildings: int
    rooms: int
    occupied_rooms: int
    vacant_rooms: int
    occupancy_rate: float
    renters: int
    active_contracts: int
    bills: BillStats
    received_total: str
