"""The inventory service layer on fakes: reservations, their ends, and the command handlers."""
