"""What the GraphQL server does besides resolving fields: error codes and masking, the offline
GraphiQL page, and (later) query cost limits, request limits, metrics and request logs."""
