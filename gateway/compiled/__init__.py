"""A compiled GraphQL executor for Strawberry: each query operation is planned once, then run
with graphql-core's semantics and a fraction of its per-field work (see executor.py)."""

from gateway.compiled.executor import CompiledExecutionContext, plan_cache

__all__ = ["CompiledExecutionContext", "plan_cache"]
