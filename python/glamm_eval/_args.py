"""Argument checks and errors shared by the glamm_eval modules (private)."""

import numbers

from glamm_eval._core import InputError

# More workers than this is a mistake, not a machine (and would overflow the C++ int).
MAX_THREADS = 4096


def input_error(file, record, message):
    """An :class:`InputError` shaped as the C++ ones: ``str()`` = "file: record: message" without the empty parts,
    attributes ``file`` and ``record`` (None when empty) and ``message``."""
    text = ": ".join(part for part in (file, record, message) if part)
    err = InputError(text)
    err.file, err.record, err.message = file or None, record or None, message
    return err


def threads_arg(threads, name="threads"):
    """A ``threads=`` argument as the C++ side takes it: None or 0 → 0 (all cores, as ``--threads 0``), else the
    integer itself. Anything else (bool, float, negative, above MAX_THREADS) → :class:`InputError` naming it."""
    if threads is None:
        return 0
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or not 0 <= threads <= MAX_THREADS:
        raise input_error(None, name, f"must be None or an integer in [0, {MAX_THREADS}] (0 = all cores), "
                                      f"got {threads!r}")
    return int(threads)
