"""The scoring service's use cases: recording and recomputing, closing periods, the rule book,
and rebuilding from the stream."""
