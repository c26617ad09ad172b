"""Demo people for `manage.py seed_demo`. Deterministic for a given random generator."""

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from portal.models import User
from portal.roles import Role

FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Nikhil",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adeyemi",
    "Bauer",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Wong",
    "Yilmaz",
    "Zhang",
]
# A 24/7 team: people sit in several zones.
TIME_ZONES = ["America/New_York", "Europe/London", "Asia/Singapore", "America/Los_Angeles", "Europe/Berlin"]

NAMED_USERS = [
    ("specialist", Role.SPECIALIST),
    ("specialist2", Role.SPECIALIST),
    ("leadership", Role.LEADERSHIP),
    ("product", Role.PRODUCT),
    ("admin", Role.ADMIN),
]


@dataclass
class DemoPeople:
    specialists: list[User] = field(default_factory=list)
    by_username: dict[str, User] = field(default_factory=dict)


def seed_people(*, rng: random.Random, password: str | None, specialists: int) -> DemoPeople:
    """Create the five named demo users and enough more specialists to reach `specialists`.

    `specialist` and `specialist2` count among the specialists, so the total is at least two.
    One password hash is shared by all, because hashing is deliberately slow. `password=None`
    gives every user an unusable password (nobody can sign in until one is set).
    """
    password_hash = make_password(password)
    extra = [(f"specialist{n}", Role.SPECIALIST) for n in range(3, max(specialists, 2) + 1)]
    users, roles = [], []
    for username, role in NAMED_USERS + extra:
        users.append(
            User(
                username=username,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=f"{username}@example.com",
                time_zone=rng.choice(TIME_ZONES),
                password=password_hash,
                is_staff=role == Role.ADMIN,
            )
        )
        roles.append(role)
    User.objects.bulk_create(users)
    created = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in Role])}
    membership = User.groups.through
    membership.objects.bulk_create(
        membership(user_id=created[u.username].pk, group_id=groups[role.value].pk)
        for u, role in zip(users, roles, strict=True)
    )
    people = DemoPeople(by_username=created)
    people.specialists = [
        created[u.username] for u, r in zip(users, roles, strict=True) if r == Role.SPECIALIST
    ]
    return people
