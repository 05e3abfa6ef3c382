"""Reads the files tests/astropy.rs wrote with astropy and compares every value, dtype, mask
and piece of metadata with what the Rust side put in (written out again here, independently).

Usage: python astropy_read_back.py DIR
Exits 0 and prints 'ok' when everything matches; otherwise raises with the first difference.
"""
import math
import os
import sys
import warnings

import numpy as np
from astropy.table import Table

# Any astropy warning (an unknown datatype, a subtype it does not expect) is a failure.
warnings.simplefilter("error")

DIR = sys.argv[1]


def same_scalar(got, want):
    if isinstance(want, float):
        got = float(got)
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1.0, got) == math.copysign(1.0, want)
    if isinstance(want, bool):
        return bool(got) is want and isinstance(got, (bool, np.bool_))
    return got == want


def same_list(got, want):
    got = list(np.asarray(got).ravel().tolist())
    return len(got) == len(want) and all(same_scalar(g, w) for g, w in zip(got, want))


def check(t, name, kind, values, *, unit=None, description=None, meta=None, shape=None, element=None):
    """kind: a numpy dtype name, 'str', or 'object' (variable-length arrays of `element`).
    shape: the shape of a fixed-size array cell. values: one per row, None for null."""
    where = f"column {name!r}"
    col = t[name]
    if kind == "str":
        assert col.dtype.kind == "U", (where, col.dtype)
    else:
        assert col.dtype == np.dtype(kind), (where, col.dtype, kind)
    assert tuple(col.shape[1:]) == tuple(shape or ()), (where, col.shape, shape)
    assert (str(col.unit) if col.unit is not None else None) == unit, (where, col.unit, unit)
    assert col.description == description, (where, col.description, description)
    assert dict(col.meta) == (meta or {}), (where, dict(col.meta), meta)
    mask = np.ma.getmaskarray(col)
    assert len(col) == len(values), (where, len(col), len(values))
    for row, want in enumerate(values):
        at = f"{where} row {row}"
        if want is None:
            assert mask[row].all(), (at, "should be null", col[row])
            continue
        assert not mask[row].any(), (at, "should not be null", mask[row])
        got = col[row]
        if kind == "object":
            assert isinstance(got, np.ndarray) and got.dtype == np.dtype(element), (at, type(got), getattr(got, "dtype", None))
            assert not np.ma.getmaskarray(got).any(), (at, got)
            assert same_list(got, want), (at, got, want)
        elif shape:
            assert same_list(np.ma.getdata(got), [x for x in np.ravel(np.array(want, dtype=object))]), (at, got, want)
        else:
            assert same_scalar(got, want), (at, repr(got), repr(want))


def read(name):
    return Table.read(os.path.join(DIR, name), format="ascii.ecsv")


NAN = float("nan")
INF = float("inf")

# ----- the common table (tests/common/mod.rs: fields(), rows()) ------------------------------
t = read("all.ecsv")
assert t.colnames == ["flag", "s", "i", "l", "f", "d", "name", "uname", "code", "ub", "t", "pos", "circ", "poly", "blob", "c", "m"], t.colnames
assert dict(t.meta) == {"QUERY": "SELECT * FROM t WHERE a < 1 AND b = 'x'", "standardID": "ivo://ivoa.net/std/TAP"}, t.meta
check(t, "flag", "bool", [True, False, None])
check(t, "s", "int16", [1, -32767, None])
check(t, "i", "int32", [2, 2147483647, None])
check(t, "l", "int64", [3, 9223372036854775807, None], description='row <id> & "key"', meta={"ucd": "meta.id;meta.main"})
check(t, "f", "float32", [1.5, NAN, None], unit="mag")
check(t, "d", "float64", [2.25, -INF, None], unit="deg", meta={"ucd": "pos.eq.ra"})
check(t, "name", "str", ['a<b&"c"', "line1\nline2,\ttab", None])
check(t, "uname", "str", ["é✓", "", None])
check(t, "code", "str", ["AB", "ABCDEFG", None])
check(t, "ub", "uint8", [7, 0, None])
check(t, "t", "str", ["2024-07-01T01:02:03.500", "1970-01-01T00:00:00", None], meta={"xtype": "timestamp"})
check(t, "pos", "float64", [[10.5, -20.25], [359.75, 89.5], None], shape=(2,), unit="deg", meta={"xtype": "point"})
check(t, "circ", "float64", [[1.0, 2.0, 0.5], [0.0, -90.0, 180.0], None], shape=(3,), unit="deg", meta={"xtype": "circle"})
check(t, "poly", "object", [[0.0, 0.0, 1.0, 0.0, 1.0, 1.0], [], None], element="float64", unit="deg", meta={"xtype": "polygon"})
check(t, "blob", "object", [[0, 255, 7], [], None], element="uint8", meta={"xtype": "adql:blob"})
check(t, "c", "str", ["x", "y", None])
# VOTable arraysize 2x2: the first index varies fastest, so numpy's shape is (2, 2) row-major.
check(t, "m", "float32", [[[1.0, 2.0], [3.0, 4.0]], [[NAN, 0.25], [-0.5, float(np.float32(1e30))]], None], shape=(2, 2))

# ----- the array table (tests/common/mod.rs: array_fields(), array_rows()) -------------------
t = read("arrays.ecsv")
assert t.colnames == ["ss", "ii", "ll", "ff", "bb"], t.colnames
check(t, "ss", "object", [[1, -2, 32767], [], None], element="int16")
check(t, "ii", "int32", [[1, 2, -3], [-2147483648, 0, 7], None], shape=(3,))
check(t, "ll", "object", [[9223372036854775807, 0], [], None], element="int64")
check(t, "ff", "object", [[1.5, NAN], [], None], element="float32")
check(t, "bb", "object", [[True, False, True], [], None], element="bool")

# ----- names and values that need care (tests/astropy.rs: edge_fields(), edge_rows()) --------
t = read("edge.ecsv")
assert t.colnames == ["#first", "s", "s.mask", "a,b", 'q"uote', "t", "vm", "bytes"], t.colnames
assert dict(t.meta) == {"QUERY": 'SELECT "a,b"\nFROM t -- ü', "note": "a: b # c"}, t.meta
check(t, "#first", "str", ["#not a comment", "", None, "x"])
check(t, "s", "str", ["", 'multi\nline "quoted", text', None, "ü ✓ 😀"])
check(t, "s.mask", "bool", [True, False, None, None])
check(t, "a,b", "int32", [1, -1, None, -2147483648])
check(t, 'q"uote', "float64", [0.1, -0.0, None, 1.7976931348623157e308])
check(t, "t", "str", ["-4713-11-24T00:00:00", "+294247-01-10T04:00:54.775807", None, "1970-01-01T00:00:00.001500"], meta={"xtype": "timestamp"})
check(t, "vm", "object", [[1.0, 2.0, 3.0, 4.0], [], None, [NAN, INF]], element="float64")
check(t, "bytes", "uint8", [[1, 2], [255, 0], None, None], shape=(2,))

# ----- one column: a null row must not be a blank line -----------------------------------------
t = read("one.ecsv")
check(t, "n", "int64", [1, None, 3])

# ----- votable_gzip: what astroquery does with the body (gunzip, then the VOTable reader) ------
import gzip  # noqa: E402
import io  # noqa: E402

with open(os.path.join(DIR, "all.vot.gz"), "rb") as f:
    body = f.read()
t = Table.read(io.BytesIO(gzip.decompress(body)), format="votable")
assert len(t) == 3, len(t)
assert list(t["l"][:2]) == [3, 9223372036854775807], list(t["l"])
assert np.ma.getmaskarray(t["l"]).tolist() == [False, False, True]
assert str(t["name"][1]) == "line1\nline2,\ttab", t["name"][1]
# ...and astropy reading the .gz file directly, as someone who saved it with curl would.
t = Table.read(os.path.join(DIR, "all.vot.gz"), format="votable")
assert list(t["s"][:2]) == [1, -32767], list(t["s"])

print("ok")
