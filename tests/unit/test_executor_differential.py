"""The compiled executor (gateway/compiled) answers every query byte for byte like graphql-core's
standard executor (Strawberry's default execution context), on a purpose-built schema with no
services.

The schema below exercises what the compiled plans special-case: plain attributes and
resolvers (sync and async, with and without Info, with arguments, defaults, enums, input
objects, lists and variables), interfaces with several implementations, a union, nullable and
non-null fields, lists of non-null and nullable items, nested connections, custom scalars, a
Strawberry DataLoader, and faults driven by the data: resolvers raising an Exception or a
GraphQLError with extensions, None in non-null fields (leaf, object and list item, propagating
up several levels), wrongly typed values (str for Int, bool for Int, NaN for Float, an object
of the wrong type for a field, a union or an interface) and an awaitable that raises.

Hypothesis generates operations over it (tests/support/operations.py); each runs once with each
executor on the same root data (fresh dataloaders each time) and the serialized responses
({"data", "errors"} as the HTTP view builds them, json.dumps in key order) must be equal bytes.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum, IntEnum, StrEnum
from typing import Annotated, Any, NewType

import pytest
import strawberry
from graphql import GraphQLError
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from strawberry.dataloader import DataLoader
from strawberry.http import process_result
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from tests.support.operations import GenConfig, Operation, operations

# --- the executor under test ----------------------------------------------------------------


def compiled_class() -> type | None:
    """The compiled executor; with EXECUTOR_DIFFERENTIAL_SELF_CHECK=1 and no gateway.compiled
    yet, the standard one (a check of the generator and the comparison themselves)."""
    try:
        from gateway.compiled import CompiledExecutionContext
    except ModuleNotFoundError:
        if os.environ.get("EXECUTOR_DIFFERENTIAL_SELF_CHECK") == "1":
            return None
        raise
    return CompiledExecutionContext


# --- data -----------------------------------------------------------------------------------


@strawberry.enum
class Color(Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


@strawberry.enum
class Species(Enum):
    CAT = "cat"
    DOG = "dog"
    EEL = "eel"


class Mood(StrEnum):  # a str subclass returned into a String field
    HAPPY = "happy"


class Level(IntEnum):  # an int subclass returned into an Int field
    HIGH = 7


Cents = NewType("Cents", int)
CENTS = strawberry.scalar(
    name="Cents",
    serialize=lambda v: f"{v / 100:.2f}",
    parse_value=lambda v: round(float(v) * 100),
)


@dataclass
class PersonRec:
    id: str
    name: str
    age: Any
    color: Color
    tags: list[Any]
    nicknames: list[Any] | None
    created_at: Any
    friends: list[str]
    best_friend: str | None
    mentor: str | None
    pets: list[str]
    balance: int
    faults: frozenset[str] = frozenset()


@dataclass
class PetRec:
    id: Any
    name: str
    species: Species
    legs: Any
    owner: str


@dataclass
class RobotRec:
    id: str
    model: Any
    serial: int


T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def _world() -> dict[str, Any]:
    people = [
        PersonRec(
            "p1",
            "Ada",
            36,
            Color.RED,
            ["math"],
            ["A"],
            T0,
            ["p2", "p3"],
            "p2",
            "p2",
            ["pet1"],
            1050,
        ),
        PersonRec(
            "p2",
            "Bob",
            41,
            Color.GREEN,
            ["x", "y"],
            None,
            T0,
            ["p1", "p4", "p5"],
            "p1",
            "p1",
            [],
            0,
            frozenset({"age:exception"}),
        ),
        PersonRec(
            "p3",
            "Cyd",
            29,
            Color.BLUE,
            [],
            [None, "C"],
            T0,
            ["p1", "p6"],
            "g1",
            "p1",
            ["pet2", "pet3"],
            -5,
            frozenset({"age:graphql", "score:none"}),
        ),
        PersonRec(
            "p4",
            "Dee",
            52,
            Color.RED,
            ["a", None],
            [],
            "2024-01-01",
            ["p2"],
            "p9",
            "p2",
            [],
            99,
            frozenset({"email:raise"}),
        ),
        PersonRec(
            "p5",
            "Eve",
            "forty",
            Color.GREEN,
            ["e"],
            ["E", None],
            T0,
            ["p6", "p1"],
            None,
            None,
            ["pet1"],
            7,
        ),
        PersonRec(
            "p6",
            "Fay",
            True,
            Color.BLUE,
            ["f"],
            ["F"],
            date(2024, 1, 2),
            ["p5"],
            "p5",
            "p5",
            [],
            1,
            frozenset({"favorite:gadget"}),
        ),
    ]
    pets = [
        PetRec("pet1", "Rex", Species.DOG, 4, "p1"),
        PetRec("pet2", "Tom", Species.CAT, 4, "p3"),
        PetRec(3, "Eel", Species.EEL, None, "p9"),  # an int id; legs None (Int!); no owner
    ]
    robots = [RobotRec("r1", "T-800", 800), RobotRec("r2", None, 2)]
    return {
        "people": {p.id: p for p in people},
        "pets": {str(p.id): p for p in pets},
        "robots": {r.id: r for r in robots},
    }


WORLD = _world()
IDS = [*WORLD["people"], *WORLD["pets"], *WORLD["robots"], "g1", "nope"]


class Later:
    """An awaitable that is no coroutine (awaitable again and again), held by a plain
    attribute: the executor must await it like a resolver's result."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Any:
        if False:
            yield
        return self.value


class Ctx:
    """Per execution: the world and fresh dataloaders."""

    def __init__(self) -> None:
        self.world = WORLD
        self.batches: list[list[str]] = []
        self.people = DataLoader(load_fn=self._load_people)
        self.pets = DataLoader(load_fn=self._load_pets)

    async def _load_people(self, keys: list[str]) -> list[Any]:
        self.batches.append(list(keys))
        await asyncio.sleep(0)
        return [
            Person.of(self.world["people"][k])
            if k in self.world["people"]
            else (Gadget(label=k) if k == "g1" else KeyError(k))
            for k in keys
        ]

    async def _load_pets(self, keys: list[str]) -> list[Any]:
        self.batches.append(list(keys))
        return [Pet.of(self.world["pets"][k]) for k in keys]


# --- schema ---------------------------------------------------------------------------------


@strawberry.input
class Filter:
    min_age: int | None = None
    colors: list[Color] | None = None
    name_contains: str = ""
    nested: Filter | None = None

    def keeps(self, p: PersonRec) -> bool:
        if self.min_age is not None and not (isinstance(p.age, int) and p.age >= self.min_age):
            return False
        if self.colors is not None and p.color not in self.colors:
            return False
        if self.name_contains.lower() not in p.name.lower():
            return False
        return self.nested is None or self.nested.keeps(p)


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.interface
class Named:
    name: str

    @strawberry.field
    def display_name(self, upper: bool = False) -> str:
        return self.name.upper() if upper else f"~{self.name}"


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PersonEdge:
    cursor: str
    node: Person


@strawberry.type
class PersonConnection:
    edges: list[PersonEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Person]:
        return [e.node for e in self.edges]


def _connection(ids: list[str], first: int | None, after: str | None) -> PersonConnection:
    if first is not None and first < 0:
        raise GraphQLError("first must be >= 0", extensions={"code": "BAD_USER_INPUT"})
    start = 0 if after is None else int(after.removeprefix("c")) + 1
    window = ids[start:] if first is None else ids[start : start + first]
    edges = [
        PersonEdge(cursor=f"c{start + i}", node=Person.of(WORLD["people"][k]))
        for i, k in enumerate(window)
        if k in WORLD["people"]
    ]
    return PersonConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + len(window) < len(ids),
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(ids),
    )


@strawberry.type
class Gadget:
    """In the schema but neither a Node nor a SearchResult: returning it there is an error."""

    label: str


@strawberry.type
class Person(Node, Named):
    rec: strawberry.Private[PersonRec]
    color: Color
    tags: list[str]
    nicknames: list[str | None] | None
    created_at: datetime
    balance: Cents
    meta: JSON
    rank: int  # holds an awaitable (`Later`)

    @classmethod
    def of(cls, rec: PersonRec) -> Person:
        return cls(
            id=strawberry.ID(rec.id),
            name=rec.name,
            rec=rec,
            color=rec.color,
            tags=list(rec.tags),
            nicknames=rec.nicknames,
            created_at=rec.created_at,
            balance=rec.balance,
            meta={"id": rec.id, "friends": len(rec.friends), "nested": {"ok": True}},
            rank=Later(int(rec.id.removeprefix("p"))),  # type: ignore[arg-type]
        )

    @strawberry.field
    def age(self) -> int | None:
        faults = self.rec.faults
        if "age:exception" in faults:
            raise ValueError(f"age exploded for {self.rec.id}")
        if "age:graphql" in faults:
            raise GraphQLError(
                "age is private", extensions={"code": "FORBIDDEN", "person": self.rec.id}
            )
        return self.rec.age

    @strawberry.field
    def score(self, multiplier: int = 1) -> int:
        if "score:none" in self.rec.faults:
            return None  # type: ignore[return-value]
        return len(self.rec.name) * multiplier

    @strawberry.field
    async def email(self, info: Info) -> str | None:
        await asyncio.sleep(0)
        if "email:raise" in self.rec.faults:
            raise RuntimeError(f"mail server down for {self.rec.id}")
        return f"{self.rec.name.lower()}@example.test"

    @strawberry.field
    def greeting(self, name: str, punctuation: str = "!", colors: list[Color] | None = None) -> str:
        shades = "" if colors is None else "/".join(c.value for c in colors)
        return f"{self.rec.name} greets {name}{punctuation}{shades}"

    @strawberry.field
    def tagged(self, extra: list[str] | None = None) -> list[str]:
        """Mutates its argument, as resolvers may: each call must get its own copy."""
        extra = extra if extra is not None else []
        extra.append(self.rec.id)
        return extra

    @strawberry.field
    def trace(self, info: Info, tag: str = "t") -> str:
        selected = [(f.name, f.alias, f.arguments) for f in info.selected_fields]
        return (
            f"{tag}|{info.field_name}|{info.python_name}|{info.path.as_list()}|"
            f"{info.return_type}|{selected}|{sorted(info.variable_values.items())}"
        )

    @strawberry.field
    def best_friend(self, info: Info) -> Person | None:
        # Not async: returns the loader's awaitable (or None) from a sync resolver.
        key = self.rec.best_friend
        return None if key is None else info.context.people.load(key)

    @strawberry.field
    async def mentor(self, info: Info) -> Person:
        if self.rec.mentor is None:
            return None  # type: ignore[return-value]
        return await info.context.people.load(self.rec.mentor)

    @strawberry.field
    async def pets(self, info: Info) -> list[Pet]:
        return await info.context.pets.load_many(self.rec.pets)

    @strawberry.field
    def friends(
        self, first: int | None = 2, after: str | None = None, filter: Filter | None = None
    ) -> PersonConnection:
        ids = [
            k
            for k in self.rec.friends
            if filter is None or (k in WORLD["people"] and filter.keeps(WORLD["people"][k]))
        ]
        return _connection(ids, first, after)

    @strawberry.field
    def favorite(self) -> SearchResult | None:
        if "favorite:gadget" in self.rec.faults:
            return Gadget(label="not a search result")  # type: ignore[return-value]
        pet = self.rec.pets[0] if self.rec.pets else None
        return Pet.of(WORLD["pets"][pet]) if pet else None


@strawberry.type
class Pet(Node, Named):
    rec: strawberry.Private[PetRec]
    species: Species
    legs: int

    @classmethod
    def of(cls, rec: PetRec) -> Pet:
        return cls(id=rec.id, name=rec.name, rec=rec, species=rec.species, legs=rec.legs)

    @strawberry.field
    async def owner(self, info: Info) -> Person | None:
        return await info.context.people.load(self.rec.owner)


@strawberry.type
class Robot(Node):
    model: str

    @strawberry.field
    async def serial(self) -> int:
        return int(self.id.removeprefix("r")) * 100


SearchResult = Annotated[Person | Pet | Robot, strawberry.union("SearchResult")]


@strawberry.type
class Deep:
    level: int
    fail_at: strawberry.Private[int | None]
    levels: strawberry.Private[int]

    def _child(self) -> Deep | None:
        if self.level >= self.levels:
            return None
        return Deep(level=self.level + 1, fail_at=self.fail_at, levels=self.levels)

    @strawberry.field
    def value(self) -> int:
        return None if self.level == self.fail_at else self.level * 10  # type: ignore[return-value]

    @strawberry.field
    def next(self) -> Deep | None:
        return self._child()

    @strawberry.field
    async def strict(self) -> Deep:
        return self._child()  # type: ignore[return-value]

    @strawberry.field
    def items(self) -> list[Deep]:
        child = self._child()
        return [] if child is None else [child, child]


@strawberry.type
class Quirks:
    """Leaf values of a type other than their field's: serialization must match exactly."""

    @strawberry.field
    def int_from_bool(self) -> int:
        return True  # type: ignore[return-value]

    @strawberry.field
    def int_from_float(self) -> int:
        return 3.0  # type: ignore[return-value]

    @strawberry.field
    def int_from_fraction(self) -> int | None:
        return 3.5  # type: ignore[return-value]

    @strawberry.field
    def int_too_big(self) -> int | None:
        return 2**40

    @strawberry.field
    def int_enum(self) -> int:
        return Level.HIGH

    @strawberry.field
    def float_from_int(self) -> float:
        return 3

    @strawberry.field
    def float_nan(self) -> float | None:
        return float("nan")

    @strawberry.field
    def string_from_int(self) -> str:
        return 42  # type: ignore[return-value]

    @strawberry.field
    def string_from_bool(self) -> str:
        return False  # type: ignore[return-value]

    @strawberry.field
    def string_enum(self) -> str:
        return Mood.HAPPY

    @strawberry.field
    def string_from_list(self) -> str | None:
        return ["not", "a", "string"]  # type: ignore[return-value]

    @strawberry.field
    def id_from_int(self) -> strawberry.ID:
        return 7  # type: ignore[return-value]

    @strawberry.field
    def color_from_value(self) -> Color | None:
        return "green"  # type: ignore[return-value]

    @strawberry.field
    def color_wrong(self) -> Color | None:
        return "purple"  # type: ignore[return-value]

    @strawberry.field
    def date_as_datetime(self) -> datetime:
        return date(2020, 2, 29)  # type: ignore[return-value]

    @strawberry.field
    def matrix(self) -> list[list[int] | None]:
        return [[1, 2], None, [3]]

    @strawberry.field
    def strict_matrix(self) -> list[list[int]] | None:
        return [[1], [None]]  # type: ignore[list-item]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def tuple_list(self) -> list[int]:
        return (1, 2)  # type: ignore[return-value]

    @strawberry.field
    def generator_list(self) -> list[str]:
        return (s for s in "ab")  # type: ignore[return-value]


def _lookup(id: str) -> Any:
    w = WORLD
    if id in w["people"]:
        return Person.of(w["people"][id])
    if id in w["pets"]:
        return Pet.of(w["pets"][id])
    if id in w["robots"]:
        r = w["robots"][id]
        return Robot(id=strawberry.ID(r.id), model=r.model)
    if id == "g1":
        return Gadget(label="gadget")
    return None


def _people(filter: Filter | None, first: int | None) -> list[Person]:
    recs = [p for p in WORLD["people"].values() if filter is None or filter.keeps(p)]
    return [Person.of(p) for p in recs[:first] if first is None or first >= 0]


@strawberry.type
class Query:
    version: str
    now: datetime

    @strawberry.field
    def person(self, info: Info, id: strawberry.ID) -> Person | None:
        rec = info.context.world["people"].get(id)
        return Person.of(rec) if rec else None

    @strawberry.field
    async def people(self, filter: Filter | None = None, first: int | None = None) -> list[Person]:
        return _people(filter, first)

    @strawberry.field
    def people_or_null(
        self, filter: Filter | None = None, first: int | None = 3
    ) -> list[Person] | None:
        return _people(filter, first)

    @strawberry.field
    async def loose_people(self, first: int | None = None) -> list[Person | None]:
        return [*_people(None, first), None]

    @strawberry.field
    async def people_by_ids(self, info: Info, ids: list[strawberry.ID]) -> list[Person | None]:
        return await info.context.people.load_many(ids)

    @strawberry.field
    async def node(self, id: strawberry.ID) -> Node | None:
        return _lookup(id)

    @strawberry.field
    def nodes(self, ids: list[strawberry.ID]) -> list[Node | None]:
        return [_lookup(i) for i in ids]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Person.of(WORLD["people"]["p1"]), Pet.of(WORLD["pets"]["pet1"])]

    @strawberry.field
    async def search(self, text: str = "", limit: int | None = None) -> list[SearchResult] | None:
        hits: list[Any] = [_lookup(i) for i in IDS[:-2]]
        hits = [h for h in hits if text.lower() in getattr(h, "name", "robot").lower()]
        if text == "gadget":
            hits.append(Gadget(label="gadget"))
        return hits[:limit] if limit is not None and limit >= 0 else hits

    @strawberry.field
    def echo(
        self,
        color: Color = Color.RED,
        colors: list[Color] | None = None,
        filter: Filter | None = None,
        when: datetime | None = None,
        amount: Cents | None = None,
        n: int | None = None,
        f: float | None = None,
        b: bool | None = None,
        s: str | None = None,
        id: strawberry.ID | None = None,
        ids: list[strawberry.ID | None] | None = None,
    ) -> str:
        return repr((color, colors, filter, when, amount, n, f, b, s, id, ids))

    @strawberry.field
    def deep(self, levels: int = 3, fail_at: int | None = None) -> Deep | None:
        return Deep(level=0, fail_at=fail_at, levels=levels)

    @strawberry.field
    def quirks(self) -> Quirks:
        return Quirks()

    @strawberry.field
    def failing(self) -> int | None:
        raise ValueError("failing on purpose")

    @strawberry.field
    async def failing_strict(self) -> int:
        raise GraphQLError("strict failure", extensions={"code": "BOOM", "n": [1, 2]})

    @strawberry.field
    async def count(self) -> int:
        return 3

    @strawberry.field
    def gadget(self) -> Gadget:
        return Gadget(label="g")


class QuietSchema(strawberry.Schema):
    """Errors are the data here: no traceback logging per error."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None


def make_schema(execution_context_class: type | None) -> strawberry.Schema:
    return QuietSchema(
        query=Query,
        types=[Person, Pet, Robot, Gadget],
        execution_context_class=execution_context_class,
        config=StrawberryConfig(scalar_map={Cents: CENTS}),
    )


def root() -> Query:
    return Query(version="v1", now=T0)


async def respond(schema: strawberry.Schema, op: Operation) -> bytes:
    """The response the HTTP view would send for `op`, serialized in key order."""
    result = await schema.execute(
        op.query,
        variable_values=op.variables,
        context_value=Ctx(),
        root_value=root(),
        operation_name=op.operation_name,
    )
    return json.dumps(process_result(result), ensure_ascii=False).encode()


# --- the generator's view of this schema ----------------------------------------------------

GEN = GenConfig(
    max_depth=4,
    max_selections=4,
    values={
        "ID": st.sampled_from(IDS),
        "DateTime": st.sampled_from(["2024-01-02T03:04:05+00:00", "2023-12-31T23:59:59"]),
        "Cents": st.sampled_from(["1.50", "0.99", "12"]),
        "JSON": st.just({"k": 1}),
    },
    arguments={
        ("Query", "deep", "levels"): st.integers(0, 4),
        ("Query", "deep", "failAt"): st.one_of(st.none(), st.integers(0, 4)),
        ("Person", "friends", "after"): st.sampled_from([None, "c0", "c1"]),
    },
)

STANDARD = make_schema(None)


@pytest.fixture(scope="module")
def compiled_schema() -> strawberry.Schema:
    schema = make_schema(compiled_class())
    assert schema.execution_context_class is compiled_class()
    return schema


# --- fixed operations: each feature at least once, whatever Hypothesis draws ----------------

FIXED = [
    Operation("{ version now count gadget { label } }", {}),
    Operation(
        """query Q($id: ID!, $m: Int = 2, $skip: Boolean!) {
          person(id: $id) { id name age score(multiplier: $m) email color tags nicknames
            createdAt balance meta trace(tag: "x") @skip(if: $skip)
            bestFriend { ...P } mentor { name } pets { ...on Named { name displayName(upper: true) }
            legs species owner { id } } favorite { __typename ... on Pet { name } } }
        }
        fragment P on Person { id name }""",
        {"id": "p1", "skip": False},
        "Q",
    ),
    Operation(
        "{ people { id age score email tags mentor { id } bestFriend { id } createdAt } }", {}
    ),
    Operation("{ peopleOrNull(first: 6) { id score } loosePeople { id mentor { id } } }", {}),
    Operation('{ peopleByIds(ids: ["p1", "p2", "p1"]) { id name } }', {}),
    Operation('{ peopleByIds(ids: ["p1", "p9"]) { id } }', {}),
    Operation(
        """{ nodes(ids: ["p1", "pet1", "r1", "r2", "g1", "nope", "3"]) {
          id __typename ... on Named { name displayName } ... on Robot { model serial }
          ... on Pet { legs owner { name } } } }""",
        {},
    ),
    Operation('{ node(id: "g1") { id } named { name displayName ... on Person { age } } }', {}),
    Operation(
        """{ search(text: "e") { __typename ... on Person { id friends(first: 1) { edges {
          cursor node { id friends { totalCount nodes { id }
          pageInfo { hasNextPage endCursor } } } }
          } } ... on Pet { name } ... on Robot { model } } gadgets: search(text: "gadget") {
          __typename } }""",
        {},
    ),
    Operation(
        """query($f: Filter, $c: [Color!]) { echo(color: BLUE, colors: $c, filter: $f,
          when: "2024-01-02T03:04:05+00:00", amount: "1.50", n: 1, f: 2, b: true, s: "s",
          id: 4, ids: ["a", null]) }""",
        {"f": {"minAge": 3, "nested": {"nameContains": "a"}}, "c": "GREEN"},
    ),
    Operation(
        """{ a: deep(failAt: 3) { level value strict { level strict { level strict { value } } } }
          b: deep(failAt: 2) { next { strict { strict { value } } } }
          c: deep(levels: 2) { items { level items { value } } } }""",
        {},
    ),
    Operation(
        """{ quirks { intFromBool intFromFloat intFromFraction intTooBig intEnum floatFromInt
          floatNan stringFromInt stringFromBool stringEnum stringFromList idFromInt
          colorFromValue colorWrong dateAsDatetime matrix strictMatrix notAList tupleList
          generatorList } }""",
        {},
    ),
    Operation("{ failing count }", {}),
    Operation("{ failingStrict count }", {}),
    Operation(
        """{ a: person(id: "p1") { x: friends(first: 1) { totalCount } y: friends(first: 2) {
          totalCount } friends { nodes { id } } friends { nodes { name } } } }""",
        {},
    ),
    Operation('{ person(id: "p1") { rank } }', {}),
    Operation('{ people(first: 2) { tagged(extra: ["x"]) } }', {}),
    Operation("query($e: [String!]) { people(first: 2) { tagged(extra: $e) } }", {"e": ["v"]}),
    Operation('query($v: Int) { person(id: "p2") { score(multiplier: $v) } }', {"v": "x"}),
    Operation("{ person(id: 1) { id } }", {}),
    Operation("{ nope }", {}),
]


@pytest.mark.parametrize("op", FIXED, ids=lambda op: op.query.split("{")[1][:30].strip())
async def test_fixed_operations_answer_identically(
    compiled_schema: strawberry.Schema, op: Operation
) -> None:
    standard = await respond(STANDARD, op)
    compiled = await respond(compiled_schema, op)
    assert compiled == standard, _diff(op, standard, compiled)


async def test_a_plan_reused_by_later_requests_answers_like_the_first(
    compiled_schema: strawberry.Schema,
) -> None:
    """Plans are cached across requests: nothing one request does may leak into the next."""
    for op in FIXED:
        standard = await respond(STANDARD, op)
        for _ in range(2):
            compiled = await respond(compiled_schema, op)
            assert compiled == standard, _diff(op, standard, compiled)


async def test_the_compiled_executor_runs_from_plans() -> None:
    """Guards the property against a compiled executor that quietly hands every operation to
    the standard one."""
    from gateway.compiled import plan_cache

    schema = make_schema(compiled_class())
    for op in FIXED:
        await respond(schema, op)
    plans = plan_cache(schema._schema)._plans
    assert sum(plan is not None for plan in plans.values()) >= len(FIXED) - 3


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(op=operations(STANDARD._schema, GEN))
async def test_generated_operations_answer_identically(
    compiled_schema: strawberry.Schema, op: Operation
) -> None:
    note(str(op))
    standard = await respond(STANDARD, op)
    compiled = await respond(compiled_schema, op)
    outcome(standard)
    assert compiled == standard, _diff(op, standard, compiled)


def outcome(response: bytes) -> None:
    body = json.loads(response)
    if body.get("data") is None:
        event("response: data null")
    elif body.get("errors"):
        event("response: partial data with errors")
    else:
        event("response: data, no errors")


def _diff(op: Operation, standard: bytes, compiled: bytes) -> str:
    return (
        f"executors differ\n--- operation\n{op}\n--- standard\n{standard.decode()}\n"
        f"--- compiled\n{compiled.decode()}"
    )
