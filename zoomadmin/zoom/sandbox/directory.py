"""Deterministic fake Zoom users, and how Zoom renders them.

The field names and types follow Zoom's Users OpenAPI (ZOOM_API.md §2.1 for the list item,
§2.3 for the get-user body). Seeding draws from one ``random.Random(seed)`` so a seed always
gives the same people; only the timestamps move with ``now``.
"""

from __future__ import annotations

import base64
import functools
import random
import time
import unicodedata
from dataclasses import dataclass
from typing import Any, Final, Literal

UserStatus = Literal["active", "inactive", "pending"]

DEFAULT_DOMAIN: Final = "globex.example.com"
DEFAULT_COMPANY: Final = "Globex Corporation"
# A fixed creation time for hand-built users, so they render without a clock.
DEFAULT_CREATED_AT: Final = 1_700_000_000

LOGIN_SSO: Final = 101
LOGIN_WORK_EMAIL: Final = 100
LOGIN_GOOGLE: Final = 1

ROLE_OWNER: Final = "0"
ROLE_ADMIN: Final = "1"
ROLE_MEMBER: Final = "2"
ROLE_NAMES: Final = {ROLE_OWNER: "Owner", ROLE_ADMIN: "Admin", ROLE_MEMBER: "Member"}

DAY: Final = 86_400


def zoom_id(rng: random.Random) -> str:
    """A 22-character base64url id, the shape of Zoom's user ids (16 random bytes)."""
    return base64.urlsafe_b64encode(rng.randbytes(16)).rstrip(b"=").decode("ascii")


def iso_utc(timestamp: float) -> str:
    """Zoom's date-time format: second precision, UTC, a literal Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxUser:
    """One Zoom user. Frozen: change users through ``ZoomSandbox.set_user``."""

    id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    display_name: str | None = None  # None: "first last", as Zoom fills it in
    type: int = 2  # 1 Basic, 2 Licensed (§2.1)
    role_id: str = ROLE_MEMBER  # "0" Owner, "1" Admin, "2" Member
    status: UserStatus = "active"
    login_types: tuple[int, ...] = (LOGIN_SSO,)
    dept: str = ""
    job_title: str = ""
    location: str = ""
    company: str = DEFAULT_COMPANY
    timezone: str = "America/New_York"
    language: str = "en-US"
    pmi: int = 0
    verified: int = 1
    host_key: str = ""
    employee_unique_id: str | None = None  # SSO users only (§2.1)
    group_ids: tuple[str, ...] = ()
    im_group_ids: tuple[str, ...] = ()
    custom_attributes: tuple[tuple[str, str, str], ...] = ()  # (key, name, value)
    phone_numbers: tuple[tuple[str, str, str, str], ...] = ()  # (code, country, label, number)
    licenses: tuple[str, ...] = ()  # values of the list-users `license` filter
    user_created_at: int = DEFAULT_CREATED_AT
    last_login_time: int | None = None  # pending users have never signed in
    last_client_version: str | None = None
    # The sandbox's stand-in for "has a live Zoom session"; a revoke or deactivate clears it.
    signed_in: bool = False

    @property
    def is_sso(self) -> bool:
        return LOGIN_SSO in self.login_types

    @property
    def name(self) -> str:
        return self.display_name or f"{self.first_name} {self.last_name}".strip()

    def list_item(self, *, include_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The user as an item of ``GET /users`` (§2.1): no ``login_types``; no ``id`` when
        pending; ``custom_attributes`` and ``host_key`` only when asked for."""
        item: dict[str, Any] = {}
        if self.status != "pending":
            item["id"] = self.id
        item |= self._common_fields()
        item["group_ids"] = list(self.group_ids)
        item["im_group_ids"] = list(self.im_group_ids)
        if "custom_attributes" in include_fields:
            item["custom_attributes"] = self._custom_attributes()
        if "host_key" in include_fields and self.host_key:
            item["host_key"] = self.host_key
        return item

    def get_user_body(self, *, account_id: str, account_number: int) -> dict[str, Any]:
        """The user as the body of ``GET /users/{userId}`` (§2.3, §7.4)."""
        body: dict[str, Any] = {"id": self.id}
        body |= self._common_fields()
        body |= {
            "role_name": ROLE_NAMES.get(self.role_id, "Member"),
            "use_pmi": False,
            "personal_meeting_url": f"https://zoom.us/j/{self.pmi}",
            "account_id": account_id,
            "account_number": account_number,
            "cms_user_id": "",
            "company": self.company,
            "group_ids": list(self.group_ids),
            "im_group_ids": list(self.im_group_ids),
            "jid": f"{self.id.lower()}@xmpp.zoom.us",
            "job_title": self.job_title,
            "language": self.language,
            "location": self.location,
            "login_types": list(self.login_types),
            "phone_numbers": [
                {
                    "code": code,
                    "country": country,
                    "label": label,
                    "number": number,
                    "verified": True,
                }
                for code, country, label, number in self.phone_numbers
            ],
            "cluster": "us01",
        }
        if self.custom_attributes:
            body["custom_attributes"] = self._custom_attributes()
        return body

    def _common_fields(self) -> dict[str, Any]:
        """Fields the list item and the get-user body share, with the same types."""
        fields: dict[str, Any] = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.name,
            "email": self.email,
            "type": self.type,
            "pmi": self.pmi,
            "timezone": self.timezone,
            "verified": self.verified,
            "dept": self.dept,
            "role_id": self.role_id,
            "status": self.status,
            "user_created_at": iso_utc(self.user_created_at),
            "created_at": iso_utc(self.user_created_at),
        }
        if self.last_login_time is not None:
            fields["last_login_time"] = iso_utc(self.last_login_time)
        if self.last_client_version is not None:
            fields["last_client_version"] = self.last_client_version
        if self.employee_unique_id is not None:
            fields["employee_unique_id"] = self.employee_unique_id
        return fields

    def _custom_attributes(self) -> list[dict[str, str]]:
        return [{"key": k, "name": n, "value": v} for k, n, v in self.custom_attributes]


# --- Seed data -----------------------------------------------------------------------------------
# Names are grouped by culture so that most people get a plausible first/last pairing;
# a share of people mix cultures, as real directories do. Each culture lists the indexes of
# its usual _LOCATIONS.

# fmt: off

_CULTURES: Final[tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]], ...]] = (
    (  # English-speaking
        ("James", "Olivia", "William", "Emma", "Michael", "Sophie", "Daniel", "Grace",
         "Thomas", "Hannah", "Ryan", "Chloe", "Liam", "Megan"),
        ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes",
         "O'Brien", "Murphy", "Bennett", "Campbell", "Foster", "Reid"),
        (0, 1, 2, 3, 4, 5),
    ),
    (  # Spanish and Latin American
        ("María", "José", "Lucía", "Alejandro", "Sofía", "Javier", "Camila", "Diego",
         "Valentina", "Mateo", "Isabel", "Andrés"),
        ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
         "Sánchez", "Ramírez", "Torres", "Flores", "Díaz-Ortega"),
        (8, 17, 0, 2),
    ),
    (  # Indian
        ("Aarav", "Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Diya", "Rahul",
         "Sneha", "Aditya", "Meera"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Menon", "Rao",
         "Kulkarni", "Banerjee", "Chopra"),
        (11, 12, 1, 3),
    ),
    (  # Chinese
        ("Wei", "Li", "Jing", "Hao", "Xin", "Yu", "Min", "Jun", "Mei", "Lei", "Yan", "Tao"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
         "Sun"),
        (12, 1, 15),
    ),
    (  # Japanese
        ("Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Sakura", "Kenji", "Emi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
         "Kobayashi", "Kato"),
        (13,),
    ),
    (  # Korean
        ("Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Joon-young", "Soo-ah", "Hyun-woo",
         "Ji-woo"),
        ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Yoon", "Han"),
        (14, 1),
    ),
    (  # Nigerian
        ("Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Emeka", "Funmilayo", "Tunde", "Chioma",
         "Ifeanyi", "Amara"),
        ("Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Nwosu", "Adebayo", "Obi",
         "Ogunleye", "Uche"),
        (18, 4),
    ),
    (  # Arabic
        ("Omar", "Layla", "Yousef", "Fatima", "Karim", "Nour", "Hassan", "Amira", "Tariq",
         "Salma"),
        ("Haddad", "Al-Sayed", "Khalil", "Mansour", "Nasser", "Farouk", "Saleh", "Aziz",
         "Hamdan", "Rahman"),
        (19, 4, 7),
    ),
    (  # German
        ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Maximilian", "Leonie", "Jürgen",
         "Katrin"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann",
         "Schäfer", "Krüger"),
        (6, 4),
    ),
    (  # French
        ("Léa", "Hugo", "Chloé", "Louis", "Camille", "Jules", "Manon", "Théo", "Élodie",
         "François"),
        ("Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard",
         "Rousseau", "Fontaine"),
        (7, 3),
    ),
    (  # Polish
        ("Jakub", "Zofia", "Kacper", "Julia", "Mateusz", "Maja", "Paweł", "Agnieszka"),
        ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska",
         "Zieliński", "Szymańska"),
        (9, 4),
    ),
    (  # Nordic
        ("Erik", "Astrid", "Lars", "Ingrid", "Søren", "Freja", "Magnus", "Sigrid"),
        ("Andersson", "Johansson", "Nielsen", "Hansen", "Lindqvist", "Berg", "Østergaard",
         "Karlsson"),
        (10, 4),
    ),
    (  # Vietnamese
        ("Minh", "Linh", "Tuan", "Thu", "Duc", "Lan", "Quang", "Hoa"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang"),
        (15, 16, 1),
    ),
    (  # Brazilian
        ("João", "Beatriz", "Gabriel", "Larissa", "Rafael", "Mariana", "Lucas", "Fernanda"),
        ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Pereira", "Almeida", "Carvalho"),
        (16,),
    ),
    (  # Irish and Dutch, with particles that make awkward email addresses
        ("Siobhán", "Niamh", "Cian", "Pieter", "Sanne", "Daan", "Aoife", "Ruairí"),
        ("Ó Briain", "Mac Carthaigh", "van der Berg", "de Vries", "Jansen", "Fitzgerald",
         "Van Dijk", "Kelly"),
        (5, 4, 3),
    ),
)

_LOCATIONS: Final = (
    # (location, timezone, language, phone code, phone country)
    ("New York, NY", "America/New_York", "en-US", "+1", "US"),  # 0
    ("San Francisco, CA", "America/Los_Angeles", "en-US", "+1", "US"),  # 1
    ("Chicago, IL", "America/Chicago", "en-US", "+1", "US"),  # 2
    ("Toronto, ON", "America/Toronto", "en-US", "+1", "CA"),  # 3
    ("London", "Europe/London", "en-US", "+44", "GB"),  # 4
    ("Dublin", "Europe/Dublin", "en-US", "+353", "IE"),  # 5
    ("Berlin", "Europe/Berlin", "de-DE", "+49", "DE"),  # 6
    ("Paris", "Europe/Paris", "fr-FR", "+33", "FR"),  # 7
    ("Madrid", "Europe/Madrid", "es-ES", "+34", "ES"),  # 8
    ("Warsaw", "Europe/Warsaw", "pl-PL", "+48", "PL"),  # 9
    ("Stockholm", "Europe/Stockholm", "sv-SE", "+46", "SE"),  # 10
    ("Bengaluru", "Asia/Kolkata", "en-US", "+91", "IN"),  # 11
    ("Singapore", "Asia/Singapore", "en-US", "+65", "SG"),  # 12
    ("Tokyo", "Asia/Tokyo", "jp-JP", "+81", "JP"),  # 13
    ("Seoul", "Asia/Seoul", "ko-KO", "+82", "KR"),  # 14
    ("Sydney", "Australia/Sydney", "en-US", "+61", "AU"),  # 15
    ("São Paulo", "America/Sao_Paulo", "pt-PT", "+55", "BR"),  # 16
    ("Mexico City", "America/Mexico_City", "es-ES", "+52", "MX"),  # 17
    ("Lagos", "Africa/Lagos", "en-US", "+234", "NG"),  # 18
    ("Dubai", "Asia/Dubai", "en-US", "+971", "AE"),  # 19
)

_DEPARTMENTS: Final = (
    ("Engineering", 22, ("Software Engineer", "Senior Software Engineer", "Staff Engineer",
                         "Engineering Manager", "QA Engineer", "Site Reliability Engineer")),
    ("Sales", 15, ("Account Executive", "Sales Development Representative", "Sales Manager",
                   "Solutions Engineer")),
    ("Customer Support", 14, ("Support Specialist", "Support Team Lead",
                              "Technical Support Engineer")),
    ("Marketing", 8, ("Marketing Manager", "Content Strategist", "Product Marketing Manager")),
    ("Operations", 8, ("Operations Manager", "Program Manager", "Office Manager")),
    ("Product", 8, ("Product Manager", "UX Designer", "UX Researcher")),
    ("IT", 7, ("IT Support Technician", "Systems Administrator", "Security Analyst")),
    ("Finance", 6, ("Financial Analyst", "Accountant", "Payroll Specialist")),
    ("Human Resources", 5, ("HR Business Partner", "Recruiter", "People Operations Specialist")),
    ("Legal", 3, ("Counsel", "Paralegal", "Compliance Officer")),
)

_CLIENT_VERSIONS: Final = (
    "6.3.11.60501(win)", "6.3.6.56144(mac)", "6.2.11.43613(linux)", "6.4.0.61010(win)",
    "6.3.10.59996(android)", "6.3.5.55030(iphone)", "6.1.12.39765(mac)",
)
# fmt: on

# Characters NFKD does not take apart into ASCII.
_ASCII_FOLD: Final = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "\u0131": "i"}
)


def email_local_part(first: str, last: str) -> str:
    """``first.last`` folded to lowercase ASCII: "Søren Østergaard" -> "soren.ostergaard"."""
    return f"{_fold(first)}.{_fold(last)}"


@functools.cache  # a few hundred distinct names: folding each once keeps seeding fast
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(c for c in decomposed.lower() if c.isascii() and (c.isalnum() or c == "-"))


def unique_email(local: str, domain: str, taken: dict[str, int]) -> str:
    """``local@domain``, numbered (``local2@``) when the address is already taken."""
    count = taken.get(local, 0) + 1
    taken[local] = count
    suffix = "" if count == 1 else str(count)
    return f"{local}{suffix}@{domain}"


def seed_users(
    count: int = 300,
    seed: int = 7,
    *,
    domain: str = DEFAULT_DOMAIN,
    now: float | None = None,
) -> list[SandboxUser]:
    """``count`` realistic users, the same ones for the same ``seed``.

    Timestamps are relative to the UTC midnight before ``now`` (default: the wall clock), so
    the directory looks recent but stays identical for a whole day. User 0 is the account
    owner; about 1% are admins.
    """
    rng = random.Random(seed)
    anchor = int((time.time() if now is None else now) // DAY * DAY)
    dept_names = [d[0] for d in _DEPARTMENTS]
    dept_weights = [d[1] for d in _DEPARTMENTS]
    group_ids = {name: zoom_id(rng) for name in dept_names}
    im_group_id = zoom_id(rng)
    taken: dict[str, int] = {}
    # Draw departments in bulk: one call instead of one per user keeps 100k users fast.
    departments = rng.choices(range(len(_DEPARTMENTS)), dept_weights, k=count)
    return [
        _seed_one(
            rng,
            index,
            _DEPARTMENTS[departments[index]],
            anchor,
            domain,
            taken,
            group_ids,
            im_group_id,
        )
        for index in range(count)
    ]


# random.random() is several times faster than randrange() and choice(); the tiny bias of
# scaling a float does not matter for fake data, and seeding 100k users stays well under 3 s.
def _pick[T](rng: random.Random, items: tuple[T, ...]) -> T:
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int | None = None) -> int:
    """Like ``randrange(low, high)``, or ``randrange(low)`` with one argument."""
    if high is None:
        low, high = 0, low
    return low + int(rng.random() * (high - low))


def _seed_one(
    rng: random.Random,
    index: int,
    department: tuple[str, int, tuple[str, ...]],
    anchor: int,
    domain: str,
    taken: dict[str, int],
    group_ids: dict[str, str],
    im_group_id: str,
) -> SandboxUser:
    firsts, lasts, homes = _pick(rng, _CULTURES)
    if rng.random() < 0.15:  # mixed-culture names
        lasts = _pick(rng, _CULTURES)[1]
    first, last = _pick(rng, firsts), _pick(rng, lasts)
    place = _LOCATIONS[_pick(rng, homes) if rng.random() < 0.8 else _between(rng, len(_LOCATIONS))]
    dept, _, titles = department

    roll = rng.random()
    status: UserStatus = "active" if roll < 0.88 else "inactive" if roll < 0.95 else "pending"
    role = ROLE_OWNER if index == 0 else ROLE_ADMIN if rng.random() < 0.01 else ROLE_MEMBER
    if role != ROLE_MEMBER:
        status = "active"  # owners and admins run the account, so they are never pending
    login = _login_types(rng, status)
    created = anchor - _between(rng, 30 * DAY, 2000 * DAY)
    last_login = _last_login(rng, status, anchor, created)
    uid = zoom_id(rng)
    return SandboxUser(
        id=uid,
        email=unique_email(email_local_part(first, last), domain, taken),
        first_name=first,
        last_name=last,
        type=2 if rng.random() < 0.8 else 1,
        role_id=role,
        status=status,
        login_types=login,
        dept=dept,
        job_title=_pick(rng, titles),
        location=place[0],
        timezone=place[1],
        language=place[2],
        pmi=_between(rng, 2_000_000_000, 9_999_999_999),
        verified=0 if status == "pending" else 1,
        host_key=f"{_between(rng, 1_000_000):06d}",
        employee_unique_id=f"E{100_000 + index}" if LOGIN_SSO in login else None,
        group_ids=(group_ids[dept],),
        im_group_ids=(im_group_id,),
        custom_attributes=(("cbf_costcenter", "Cost center", f"CC-{_between(rng, 100, 999)}"),),
        phone_numbers=((place[3], place[4], "Mobile", f"{_between(rng, 10**8, 10**9)}"),)
        if rng.random() < 0.4
        else (),
        user_created_at=created,
        last_login_time=last_login,
        last_client_version=None if last_login is None else _pick(rng, _CLIENT_VERSIONS),
        signed_in=status == "active" and last_login is not None,
    )


def _login_types(rng: random.Random, status: UserStatus) -> tuple[int, ...]:
    # Pending users were invited by email; SSO users are provisioned on first sign-in.
    if status == "pending":
        return (LOGIN_WORK_EMAIL,)
    roll = rng.random()
    if roll < 0.75:
        return (LOGIN_SSO,)
    return (LOGIN_WORK_EMAIL,) if roll < 0.93 else (LOGIN_GOOGLE,)


def _last_login(rng: random.Random, status: UserStatus, anchor: int, created: int) -> int | None:
    if status == "pending":
        return None
    # Squaring skews active users towards recent sign-ins; inactive ones stopped a while ago.
    if status == "active":
        ago = int(rng.random() ** 2 * 120 * DAY)
    else:
        ago = _between(rng, 60 * DAY, 400 * DAY)
    return max(created, anchor - ago - _between(rng, DAY))
