"""Thin resolvers: authenticate, validate arguments, call the domain through dataloaders.

One module per domain. Resolvers return domain models; schema/ types wrap them.
"""
