# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Every table and figure of the paper, written to a folder
#
# A manuscript's numbers should come from one run of the pre-specified analysis, not
# from cells run by hand in some order. `write_report` runs what `study.toml`
# pre-specifies (primary scale and visit, response and remission rules, relapse rule,
# sustained-response window) and writes:
#
# - the tables: Table 1 (baseline characteristics), the primary MMRM (LS-means and
#   differences by visit), the binary endpoints (rates, risk differences, NNT), time to
#   relapse (events, medians, hazard ratio) and adherence, each as CSV, Markdown, LaTeX,
#   HTML and Word, with its numbers as a tidy CSV beside it;
# - the figures: mean trajectories (observed and model-based), individual trajectories,
#   Kaplan-Meier curves with the number at risk, a forest plot of subgroup effects, a
#   swimmer plot, the CONSORT flow diagram computed from the data, the attendance heat map
#   and exercise dose against outcome, each as PDF and SVG with embedded fonts and as PNG,
#   at journal widths (85 and 175 mm) in a colour-blind-safe palette;
# - `report.html`, one self-contained file with every table and figure, that opens
#   offline.
#
# It is the same as `ketex report ketex/data/sample --out DIR` on the command line.

# %%
# %matplotlib inline
import os
from collections import Counter
from pathlib import Path

import ketex
from ketex.report.run import ReportOptions, write_report

out = Path(os.environ.get("KETEX_NOTEBOOK_OUT", "manuscript"))
trial = ketex.load_trial(ketex.sample_study_path())
# Lower resolution and one subgroup keep this notebook quick; drop `options` for the paper
# (600-dpi PNG; subgroups by sex, age, baseline severity and site).
options = ReportOptions(png_dpi=150, html_dpi=80, subgroups=("sex",))
result = write_report(trial, out, options=options,
                      progress=lambda i, n, name: print(f"{i}/{n} {name}"))

# %% [markdown]
# **What was written.**

# %%
kinds = Counter(path.suffix for path in result.files)
figures_written = sorted({p.stem for p in result.files if p.parent.name == "figures"})
print(f"{len(result.files)} files in {out} ({result.seconds:.0f} s): {len(result.tables)} "
      f"tables and {len(figures_written)} figures; by type: "
      + ", ".join(f"{n} {suffix}" for suffix, n in sorted(kinds.items())) + ".")
print("Figures:", ", ".join(figures_written))
print("Open", result.html)

# %% [markdown]
# ## A figure in your own layout
#
# Every plotting function takes `ax=` and returns the Axes it drew on, so panels compose.
# Here a two-panel figure at the double-column width: (A) the MADRS trajectories by arm
# with the model's LS-means, (B) the change at week 12 against the exercise dose, saved
# as PDF.

# %%
from ketex.report import figures
from ketex.report.analysis import dose_outcome_data, mmrm_dataset, primary_mmrm
from ketex.report.style import new_figure, save_figure

fig, (left, right) = new_figure("double", 70, ncols=2)
figures.plot_trajectory(mmrm_dataset(trial), value="CHG", fit=primary_mmrm(trial), ax=left)
figures.plot_dose_response(dose_outcome_data(trial), ax=right)
for ax, letter in [(left, "A"), (right, "B")]:
    ax.set_title(letter, loc="left", fontweight="bold")
save_figure(fig, out / "figures" / "custom_panel", formats=["pdf"])
