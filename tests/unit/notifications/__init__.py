"""The notifications service layer on fakes: contacts, and one notification per outcome."""
