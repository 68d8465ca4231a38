"""Architecture tests: the boundaries between contexts and layers."""
