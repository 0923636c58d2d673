"""fou-review."""
