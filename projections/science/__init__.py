"""Sports-science formulas for the read models: pure, typed, stdlib only.

Modules: ``load`` (session-RPE, Banister and Edwards TRIMP), ``strength`` (e1RM: Epley,
Brzycki, RIR/RPE, Tuchscherer chart), ``fatigue`` (Performance Manager, ACWR, monotony,
strain), ``recovery`` (RMSSD, lnRMSSD, baseline status), ``trend`` (least squares).
Each function's docstring cites its source and formula; see README.md for the defaults.
"""
