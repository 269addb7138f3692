"""Exercise as measured: heart-rate and power streams from devices, and training load.

- :mod:`ketex.streams.read`: ``read_stream`` (TCX, GPX, CSV) into one stream table;
- :mod:`ketex.streams.folder`: ``read_streams``, a folder of recordings and its manifest;
- :mod:`ketex.streams.load`: ``training_load``, one row per session (zone minutes,
  TRIMPs, session-RPE load, work, normalized power).
"""

from ketex.streams.folder import MANIFEST_COLUMNS, read_streams
from ketex.streams.load import LOAD_COLUMNS, training_load
from ketex.streams.read import STREAM_COLUMNS, read_stream

__all__ = [
    "LOAD_COLUMNS",
    "MANIFEST_COLUMNS",
    "STREAM_COLUMNS",
    "read_stream",
    "read_streams",
    "training_load",
]
