"""Runs test_mmap.py's tests and prints one machine-readable line per test
(`RESULT <Class.method> ok|skip|fail|error <detail>`), the same way natively
(`python3.X suite.py`, CPython's own mmap) and in the component
(test_mmap_guest.py, wasm_mmap's)."""

import sys
import traceback
import unittest


class Report(unittest.TestResult):
    def _line(self, test, outcome, detail=""):
        name = ".".join(test.id().split(".")[-2:])
        detail = " ".join(detail.split())[:600]
        print(f"RESULT {name} {outcome} {detail}".rstrip())
        sys.stdout.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(test, "ok")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, "skip", reason)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, "fail", "".join(traceback.format_exception_only(err[0], err[1])))

    def addSubTest(self, test, subtest, err):
        # A failed subtest fails its test (unittest then reports no success).
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"
            self._line(test, kind, f"{subtest.id()}: " + "".join(traceback.format_exception_only(err[0], err[1])))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(test, "error", "".join(traceback.format_exception(*err))[-600:])


def run(module):
    print(f"PYTHON {sys.version.split()[0]}")
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    suite.run(Report())
    print("DONE")
    sys.stdout.flush()


if __name__ == "__main__":
    import test.test_mmap

    run(test.test_mmap)
