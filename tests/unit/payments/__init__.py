"""The payments service layer on fakes: charges, refunds, voids and the command handlers."""
