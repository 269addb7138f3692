"""Publication figures, in one style (``ketex.report.style``).

Every plotting function takes ``ax=None`` and returns the Axes it drew on, so figures
compose; with ``ax=None`` it makes a new figure at a journal width. The factorial
interaction plot draws a panel per level (``axes=None``) and returns the Figure. Save with
:func:`ketex.report.style.save_figure` (PDF, SVG, 600-dpi PNG).
"""

from ketex.report.figures.consort import consort_counts, plot_consort
from ketex.report.figures.exercise import (
    adherence_matrix,
    plot_adherence_heatmap,
    plot_dose_response,
)
from ketex.report.figures.factorial import (
    interaction_means,
    plot_factorial_forest,
    plot_interaction,
)
from ketex.report.figures.forest import plot_forest
from ketex.report.figures.mediation import plot_mediation_sensitivity
from ketex.report.figures.safety import (
    infusion_vitals_course,
    peri_infusion_course,
    plot_infusion_vitals,
    plot_peri_infusion,
)
from ketex.report.figures.survival import plot_kaplan_meier, risk_table_axes
from ketex.report.figures.swimmer import plot_swimmer, swimmer_data
from ketex.report.figures.timing import plot_exercise_timing
from ketex.report.figures.tipping import plot_tipping_point
from ketex.report.figures.trajectories import observed_means, plot_spaghetti, plot_trajectory
from ketex.report.style import save_figure

__all__ = [
    "adherence_matrix",
    "consort_counts",
    "infusion_vitals_course",
    "interaction_means",
    "observed_means",
    "peri_infusion_course",
    "plot_adherence_heatmap",
    "plot_consort",
    "plot_dose_response",
    "plot_exercise_timing",
    "plot_factorial_forest",
    "plot_forest",
    "plot_infusion_vitals",
    "plot_interaction",
    "plot_kaplan_meier",
    "plot_mediation_sensitivity",
    "plot_peri_infusion",
    "plot_spaghetti",
    "plot_swimmer",
    "plot_tipping_point",
    "plot_trajectory",
    "risk_table_axes",
    "save_figure",
    "swimmer_data",
]
