"""Sources: parsers that turn outside formats into ``PaperRecord``s (no database access here)."""
