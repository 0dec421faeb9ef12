//! Pure statistical functions, checked against SciPy and statsmodels. No I/O.
