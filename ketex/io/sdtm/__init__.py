"""CDISC SDTM: reading SDTM datasets into a Trial, and writing a Trial as SDTM datasets.

See ``docs/loading-data.md`` (section "CDISC SDTM") for the mapping.
"""

from ketex.io.sdtm.read import load_sdtm
from ketex.io.sdtm.write import sdtm_datasets, write_sdtm

__all__ = ["load_sdtm", "sdtm_datasets", "write_sdtm"]
