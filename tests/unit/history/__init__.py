"""The history service layer on fakes: the projector following its logs, and the queries."""
