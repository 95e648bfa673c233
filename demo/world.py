"""What the demo world contains, decided from a seed before anything is written: who exists,
who follows whom, who posts what, and who likes, comments on and shares which post.

Pure data, so one seed always plans the same world (tests/unit/test_demo_world.py) and the
loader (demo/load.py) only has to play it through the services.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEMO_LOGIN = "maya"
DEMO_PASSWORD = "try-photogram-demo"
CELEBRITY = "nova"

_FIRST = [
    "ada",
    "alex",
    "ben",
    "cleo",
    "dan",
    "eli",
    "finn",
    "gia",
    "hana",
    "ivan",
    "jade",
    "kai",
    "lena",
    "milo",
    "nia",
    "omar",
    "pia",
    "quinn",
    "ravi",
    "sara",
    "theo",
    "uma",
    "vik",
    "wren",
    "xena",
    "yuki",
    "zane",
    "aria",
    "bo",
    "cyra",
    "dev",
    "ema",
    "fox",
    "gus",
    "hope",
    "iris",
    "jon",
    "kira",
    "leo",
    "mei",
    "noor",
    "oli",
    "pax",
    "rosa",
    "sol",
    "tove",
    "ulla",
    "vera",
    "wes",
]
_LAST = [
    "rivers",
    "stone",
    "park",
    "lake",
    "ford",
    "bloom",
    "vale",
    "hart",
    "moss",
    "reed",
    "cliff",
    "dune",
    "marsh",
]
_BIOS = (
    "Chasing light since forever",
    "Coffee, mountains, film grain",
    "Weekend hiker, weekday coder",
    "Street corners and sunsets",
    "Plants, cats and long walks",
    "Collecting skies one photo at a time",
    "Travel notes in pictures",
    "Cyclist. Baker. Amateur astronomer.",
)
HASHTAGS = [
    "sunset",
    "mountains",
    "travel",
    "nature",
    "skyline",
    "hiking",
    "summer",
    "photography",
    "goldenhour",
    "weekend",
    "roadtrip",
    "wanderlust",
]
LOCATIONS = (
    ("Lisbon, Portugal", 38.7223, -9.1393),
    ("Reykjavík, Iceland", 64.1466, -21.9426),
    ("Kyoto, Japan", 35.0116, 135.7681),
    ("Cape Town, South Africa", -33.9249, 18.4241),
    ("Banff, Canada", 51.1784, -115.5708),
    ("Valparaíso, Chile", -33.0472, -71.6127),
)
_OPENERS = (
    "Golden hour never gets old",
    "Found this view on the way home",
    "Sunday well spent",
    "Out of the city for a day",
    "The hills were glowing tonight",
    "Could stay here forever",
    "First light, no filter",
)
_COMMENTS = (
    "Stunning!",
    "Where is this?",
    "Those colours 😍",
    "Adding this to my list",
    "Beautiful shot",
    "Wow, the light!",
)


@dataclass(frozen=True, slots=True)
class DemoSize:
    users: int
    posts: int
    likes: int
    comments: int
    shares: int

    @classmethod
    def named(cls, name: str) -> DemoSize:
        return SIZES[name]


SIZES = {
    # `make demo`: about a minute on a laptop.
    "standard": DemoSize(users=50, posts=240, likes=600, comments=150, shares=40),
    # The suite's: every kind of thing once or twice, in seconds.
    "small": DemoSize(users=8, posts=10, likes=16, comments=5, shares=3),
}


@dataclass(frozen=True, slots=True)
class PlannedUser:
    username: str
    full_name: str
    bio: str
    initials: str
    hue: float


@dataclass(frozen=True, slots=True)
class PlannedPost:
    author: int
    caption: str
    location: tuple[str, float, float] | None
    video: bool
    picture_seed: int


@dataclass(frozen=True, slots=True)
class Plan:
    users: list[PlannedUser]
    follows: list[tuple[int, int]]
    posts: list[PlannedPost]
    likes: list[tuple[int, int]]
    comments: list[tuple[int, int, str]]
    shares: list[tuple[int, int, int]]

    @property
    def login(self) -> PlannedUser:
        return self.users[0]

    @property
    def celebrity(self) -> PlannedUser:
        return self.users[1]

    @property
    def celebrity_threshold(self) -> int:
        """The most followers anyone but the celebrity has: the demo's worker runs with this
        as CELEBRITY_FOLLOWER_THRESHOLD, so the celebrity alone is pulled at read time (the
        default, 1,000,000, would make a 50-user world all push)."""
        counts: dict[int, int] = {}
        for _, followee in self.follows:
            counts[followee] = counts.get(followee, 0) + 1
        return max((n for user, n in counts.items() if user != 1), default=0)


def _users(rng: random.Random, count: int) -> list[PlannedUser]:
    names = [DEMO_LOGIN, CELEBRITY]
    firsts = [f for f in _FIRST if f not in names]
    while len(names) < count:
        first = firsts[(len(names) - 2) % len(firsts)]
        round_ = (len(names) - 2) // len(firsts)
        names.append(first if round_ == 0 else f"{first}{round_}")
    users = []
    for name in names:
        last = rng.choice(_LAST)
        full = f"{name.rstrip('0123456789').title()} {last.title()}"
        users.append(PlannedUser(name, full, rng.choice(_BIOS), full[0] + last[0], rng.random()))
    return users


def _follows(rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Everyone follows the celebrity (1); the demo login (0) follows a dozen; the rest follow
    a few others each, so nobody else comes near the celebrity threshold."""
    edges: set[tuple[int, int]] = set()
    others = list(range(2, count))
    for user in range(count):
        if user != 1:
            edges.add((user, 1))
    for target in rng.sample(others, min(12, len(others))):
        edges.add((0, target))
    for user in others:
        for target in rng.sample(range(count), min(4, count)):
            if target != user:
                edges.add((user, target))
    edges.add((1, 0))  # the celebrity follows the demo user back: a FOLLOW notification
    return sorted(edges)


def _caption(rng: random.Random, users: list[PlannedUser], author: int) -> str:
    tags = " ".join(f"#{t}" for t in rng.sample(HASHTAGS, rng.randint(1, 3)))
    text = f"{rng.choice(_OPENERS)} {tags}"
    if rng.random() < 0.3:
        friend = rng.choice([u for i, u in enumerate(users) if i != author])
        text += f" with @{friend.username}"
    return text


def plan_world(size: DemoSize, seed: int = 16) -> Plan:
    rng = random.Random(seed)
    users = _users(rng, size.users)
    follows = _follows(rng, size.users)
    posts = []
    for index in range(size.posts):
        # The celebrity posts most; the demo login a few, so others' likes notify them.
        author = 1 if index % 4 == 0 else 0 if index % 9 == 1 else rng.randrange(size.users)
        location = rng.choice(LOCATIONS) if rng.random() < 0.5 else None
        posts.append(
            PlannedPost(author, _caption(rng, users, author), location, index == 2, seed + index)
        )
    likes: set[tuple[int, int]] = set()
    while len(likes) < min(size.likes, size.users * size.posts // 2):
        likes.add((rng.randrange(size.users), rng.randrange(size.posts)))
    comments = []
    for _ in range(size.comments):
        post = rng.randrange(size.posts)
        who = rng.randrange(size.users)
        text = rng.choice(_COMMENTS)
        if rng.random() < 0.25:
            text += f" @{users[posts[post].author].username}"
        comments.append((who, post, text))
    shares = []
    for _ in range(size.shares):
        sender, recipient = rng.sample(range(size.users), 2)
        shares.append((sender, rng.randrange(size.posts), recipient))
    # The demo login's own posts get liked and shared with them, so their notifications are full.
    own = [i for i, p in enumerate(posts) if p.author == 0]
    for user in range(1, min(size.users, 6)):
        for post in own[:2]:
            likes.add((user, post))
    return Plan(users, follows, posts, sorted(likes), comments, shares)
