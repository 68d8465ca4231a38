"""Black-box end-to-end contract tests of shoplab (the spec is the shared API.md)."""
