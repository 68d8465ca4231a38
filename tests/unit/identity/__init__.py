"""The identity service layer on fakes: registration, sign-in, the administrator."""
