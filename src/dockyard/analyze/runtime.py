"""Interpreter tuning for an analysis (cyclic GC off, a short GIL switch interval), put back as it was afterwards,
also when analyses run at once in several threads; and `freeze_for_exit` for commands about to exit."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: GIL switch interval during analysis (see `tuned`).
SWITCH_INTERVAL = 0.0005


class _Tuning:
    """The one process-wide tuning (GC and switch interval are process-wide): the first analysis in saves the
    interpreter's settings and tunes it, the last one out restores them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._gc_enabled = True
        self._interval = 0.005

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if not self._users:
                self._gc_enabled, self._interval = gc.isenabled(), sys.getswitchinterval()
                gc.disable()
                sys.setswitchinterval(min(self._interval, SWITCH_INTERVAL))
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if not self._users:
                    sys.setswitchinterval(self._interval)
                    if self._gc_enabled:
                        if not gc.get_freeze_count():  # a caller that freezes for its own reasons keeps its set
                            gc.freeze()
                            gc.unfreeze()
                        gc.enable()


#: Tune the interpreter for one analysis, and put it back as it was.
#:
#: The cyclic GC is off: analysis allocates hundreds of thousands of small objects and no cycles. At the end they
#: are moved to the oldest generation in one step (`freeze` then `unfreeze`), so the next young collection does not
#: walk them all (about 25 ms on 50,000 files) and later ones leave them alone. The GIL switch interval drops to
#: 0.5 ms: the read-ahead threads need the GIL for a moment after each chunk they read, hash or inflate, and with the
#: default 5 ms they wait behind the header parser until it runs dry (files50k: scanning 0.22 s instead of 0.14 s).
tuned = _Tuning()


def freeze_for_exit() -> None:
    """Keep the cyclic GC away from every object alive now, for the rest of the process.

    For a command that exits right after rendering a report: the interpreter's last collections would otherwise
    walk the report's and the imported modules' objects (files50k with `--ci`: teardown 30-45 ms, about 10 ms
    after this; `os._exit` after flushing skips the teardown altogether). Never in a process that goes on working:
    cyclic garbage among frozen objects is not collected.
    """
    gc.freeze()
