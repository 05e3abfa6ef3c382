"""The check harness the client scripts share: one line per check, 'N passed, N failed' last."""
import sys
import traceback

results = []


def check(name):
    """Run the decorated function now as the check `name`; record and print its outcome."""

    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            results.append((name, e))
            print(f"FAIL {name}: {e!r}")
            traceback.print_exc(limit=3)
        return fn

    return wrap


def finish():
    """Print the closing line and exit non-zero when a check failed."""
    failed = sum(1 for _, e in results if e is not None)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
