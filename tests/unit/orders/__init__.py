"""The orders service layer on fakes: placement, cancellation and both saga styles."""
