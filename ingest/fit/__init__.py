"""FIT decoding behind one interface, with three backends: "fast" (NumPy), fitdecode, fitparse."""

from ingest.fit.decoded import BACKENDS, DecodedFit, FitError, Table, decode

__all__ = ["BACKENDS", "DecodedFit", "FitError", "Table", "decode"]
