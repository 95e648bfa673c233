"""Assembles the one schema from each domain's root fields.

A domain adds its `...Query`, `...Mutation` and `...Subscription` classes to the lists below.
"""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from core.settings import Settings, get_settings
from gateway.errors import CodedParserCache, ErrorCodes
from gateway.extension_runner import GatewaySchema
from gateway.response_extensions import ContextExtensions
from gateway.setup import batching_config, gateway_extensions
from gateway.validation_cache import TextValidationCache
from resolvers.accounts_activity import TouchViewerActivity
from schema.accounts import AccountsMutation, AccountsQuery, User
from schema.core import CoreQuery, CoreSubscription
from schema.feed import FeedQuery
from schema.interactions import (
    InteractionsMutation,
    InteractionsQuery,
    InteractionsSubscription,
)
from schema.posts import Location, Post, PostsMutation, PostsQuery
from schema.search import SearchQuery

QUERIES: list[type] = [CoreQuery, AccountsQuery, PostsQuery]
QUERIES.append(SearchQuery)
QUERIES.append(FeedQuery)
MUTATIONS: list[type] = [AccountsMutation, PostsMutation]
SUBSCRIPTIONS: list[type] = [CoreSubscription]
QUERIES.append(InteractionsQuery)
MUTATIONS.append(InteractionsMutation)
SUBSCRIPTIONS.append(InteractionsSubscription)
# Types reachable only through interfaces (e.g. via `node`) must be listed to be in the schema.
EXTRA_TYPES: list[type] = [User, Post, Location]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    query = merge_types("Query", tuple(QUERIES))
    mutation = merge_types("Mutation", tuple(MUTATIONS))
    subscription = merge_types("Subscription", tuple(SUBSCRIPTIONS))
    executor = None
    if settings.graphql_executor == "compiled":
        from gateway.compiled import CompiledExecutionContext

        executor = CompiledExecutionContext
    return GatewaySchema(
        query=query,
        execution_context_class=executor,
        mutation=mutation,
        subscription=subscription,
        types=EXTRA_TYPES,
        config=StrawberryConfig(auto_camel_case=True, batching_config=batching_config(settings)),
        extensions=[
            # Gateway: request log and metrics, persisted queries, query limits and cost.
            *gateway_extensions(settings),
            ErrorCodes,
            ContextExtensions,
            TouchViewerActivity,
            # Parse and validation results are cached by query text (LRU caches shared by
            # every request): they halve the cost of a repeated feed query.
            lambda: CodedParserCache(maxsize=512),
            lambda: TextValidationCache(maxsize=512),
        ],
    )
