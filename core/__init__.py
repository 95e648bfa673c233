"""Cross-cutting pieces every layer may use: settings, domain errors, ids, cursors, logging."""
