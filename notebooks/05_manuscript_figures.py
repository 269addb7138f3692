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
# `write_report` runs what `study.toml` pre-specifies and writes each table (CSV,
# Markdown, LaTeX, HTML, Word), each figure (PDF and SVG with embedded fonts, 600-dpi
# PNG) and a self-contained `report.html`. Same as `ketex report data/sample --out DIR`.

# %%
import os
from pathlib import Path

import ketex
from ketex.report.run import ReportOptions, write_report

out = Path(os.environ.get("KETEX_NOTEBOOK_OUT", "manuscript"))
trial = ketex.load_trial(ketex.sample_study_path())
# Lower resolution and one subgroup keep this notebook quick; drop `options` for the paper.
options = ReportOptions(png_dpi=150, html_dpi=80, subgroups=("sex",))
result = write_report(trial, out, options=options,
                      progress=lambda i, n, name: print(f"{i}/{n} {name}"))
print(result.html)
sorted(p.name for p in (out / "figures").iterdir())[:6]

# %% [markdown]
# A single figure in your own layout: every plot takes `ax=` and returns it.

# %%
from ketex.report import figures
from ketex.report.style import new_figure, save_figure

fig, axes = new_figure("double", 70, ncols=2)
figures.plot_swimmer(trial, ax=axes[0], exercise=False)
figures.plot_consort(trial, ax=axes[1])
save_figure(fig, out / "figures" / "custom_panel", formats=["pdf"])
