"""Small rules of the identity domain."""

from shoplab.identity.domain.model import normalize_email


def test_emails_are_compared_without_case_or_surrounding_space() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
