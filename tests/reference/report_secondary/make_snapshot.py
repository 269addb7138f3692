"""Write the sample report's secondary-endpoint numbers (Table 3 and the time-to-relapse
table) as ketex computed them, to tests/reference/report_secondary/."""
import sys
from pathlib import Path

import ketex
from ketex.report import tables
from ketex.report.context import AnalysisContext

out = Path(sys.argv[1])
trial = ketex.load_trial(ketex.sample_study_path())
context = AnalysisContext(trial)
with context:
    tables.endpoint_table(trial).data.to_csv(out / "sample_endpoints.csv", index=False)
    relapse = context.relapse
    tables.survival_table(relapse.table, order=list(context.arms)).data.to_csv(
        out / "sample_relapse.csv", index=False)
print(ketex.__file__)
