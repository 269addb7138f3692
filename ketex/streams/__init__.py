"""Exercise as measured: heart-rate and power streams from devices, and training load.

- :mod:`ketex.streams.read`: ``read_stream`` (FIT, TCX, GPX, CSV, Parquet) into one stream
  table (:mod:`ketex.streams.fit` decodes FIT through fitdecode);
- :mod:`ketex.streams.folder`: ``read_streams``, a folder of recordings and its manifest;
- :mod:`ketex.streams.records`, :mod:`ketex.streams.checks`: the one rule for gaps,
  dropouts and spikes, and the problems of a recording;
- :mod:`ketex.streams.index`: ``StreamIndex``, a study folder's ``streams/`` as
  ``trial.streams``;
- :mod:`ketex.streams.load`: ``training_load``, one row per session (zone minutes,
  TRIMPs, session-RPE load, work, normalized power);
- :mod:`ketex.streams.adherence`: ``stream_adherence``, minutes inside the zone the arm
  prescribes, per session and participant;
- :mod:`ketex.streams.dose`: ``stream_dose``, ``exercise_dose``'s weeks with the recorded
  sessions' own zone minutes and loads (the stream wins; the difference reported);
- :mod:`ketex.streams.write`: ``write_streams``, a stream table as a ``streams/`` folder
  (Parquet, FIT through fit-tool, or CSV) with its manifest.
"""

from ketex.streams.adherence import ADHERENCE_COLUMNS, stream_adherence
from ketex.streams.dose import STREAM_DOSE_COLUMNS, stream_dose
from ketex.streams.folder import MANIFEST_COLUMNS, read_streams
from ketex.streams.index import SESSION_COLUMNS, StreamIndex
from ketex.streams.load import LOAD_COLUMNS, training_load
from ketex.streams.read import STREAM_COLUMNS, read_stream
from ketex.streams.write import write_streams

__all__ = [
    "ADHERENCE_COLUMNS",
    "LOAD_COLUMNS",
    "MANIFEST_COLUMNS",
    "SESSION_COLUMNS",
    "STREAM_COLUMNS",
    "STREAM_DOSE_COLUMNS",
    "StreamIndex",
    "read_stream",
    "read_streams",
    "stream_adherence",
    "stream_dose",
    "training_load",
    "write_streams",
]
