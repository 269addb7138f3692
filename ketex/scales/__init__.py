"""Rating scales: instrument definitions, item parsing, scoring, prorating and severity bands.

Five depression scales are scored from item level:

========== ===== ======= ========= ============================================================
code       items range   total     source
========== ===== ======= ========= ============================================================
MADRS      10    0-6     0-60      Montgomery & Åsberg 1979; bands Snaith et al. 1986
HAM-D17    17    0-4/0-2 0-52      Hamilton 1960; bands Zimmerman et al. 2013
QIDS-SR16  16    0-3     0-27      Rush et al. 2003 (9 domains: sleep, appetite/weight and
                                   psychomotor items score as the highest of their items)
PHQ-9      9     0-3     0-27      Kroenke, Spitzer & Williams 2001; item 9 flagged on its own
BDI-II     21    0-3     0-63      Beck, Steer & Brown 1996; items 16 and 18 take 1a ... 3b
========== ===== ======= ========= ============================================================

Tolerability and safety scales, never prorated (their manuals give no rule): GAD-7,
HAM-A, CADSS, BPRS-POSITIVE, YMRS, PCL-5 (with DSM-5 cluster sums and the provisional
diagnosis), SHAPS (dichotomous) and SHAPS-LIKERT, CGI-S, CGI-I, PGI-I; each definition
names its source in ``Instrument.source`` (see the "Rating scales" user-guide page).

References
----------
.. [1] Montgomery SA, Åsberg M. A new depression scale designed to be sensitive to change.
   Br J Psychiatry 1979;134:382-389.
.. [2] Snaith RP, Harrop FM, Newby DA, Teale C. Grade scores of the Montgomery-Åsberg
   Depression and the Clinical Anxiety Scales. Br J Psychiatry 1986;148:599-601.
.. [3] Hamilton M. A rating scale for depression. J Neurol Neurosurg Psychiatry
   1960;23:56-62.
.. [4] Zimmerman M, Martinez JH, Young D, Chelminski I, Dalrymple K. Severity classification
   on the Hamilton Depression Rating Scale. J Affect Disord 2013;150:384-388.
.. [5] Rush AJ, Trivedi MH, Ibrahim HM, et al. The 16-item Quick Inventory of Depressive
   Symptomatology (QIDS), clinician rating (QIDS-C), and self-report (QIDS-SR).
   Biol Psychiatry 2003;54:573-583.
.. [6] Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity
   measure. J Gen Intern Med 2001;16:606-613.
.. [7] Beck AT, Steer RA, Brown GK. Manual for the Beck Depression Inventory-II.
   San Antonio, TX: Psychological Corporation; 1996.

Examples
--------
>>> from ketex.scales import get_instrument, severity
>>> get_instrument("hamd").code
'HAM-D17'
>>> severity(22, "MADRS")
'moderate'
"""


from ketex.scales.instruments import INSTRUMENTS, Instrument, get_instrument
from ketex.scales.items import parse_item
from ketex.scales.scoring import score
from ketex.scales.totals import check_total, severity

__all__ = [
    "INSTRUMENTS",
    "Instrument",
    "check_total",
    "get_instrument",
    "parse_item",
    "score",
    "severity",
]
