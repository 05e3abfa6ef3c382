"""Reads one query's result twice, as a VOTable and as VOParquet, and compares them.

    python voparquet_check.py RESULT.vot RESULT.parquet STATUS

Run by tests/voparquet.rs with the clients' virtualenv (pyarrow, astropy). Checks, with pyarrow:
the footer keys of the VOParquet note, that the footer's VOTable has the same FIELDs as the
VOTable result (name, datatype, arraysize, unit, UCD, xtype, utype, ref, description) and no DATA,
that its last QUERY_STATUS is STATUS, that each Parquet column has the type Tapir maps the
FIELD's datatype to, and that every value and null equals the VOTable's. Then reads the file
with astropy's `Table.read(format="parquet.votable")` and reports what it gives per column.

Prints one line per fact, `FAIL ...` for each mismatch, and exits 1 if there was one.
"""

import io
import math
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import votable
from astropy.table import Table

warnings.simplefilter("ignore")

SCALAR = {
    "boolean": pa.bool_(),
    "short": pa.int16(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "unsignedByte": pa.uint8(),
}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message)


def expected_type(field):
    """The Parquet (Arrow) type Tapir writes for a FIELD."""
    if field.datatype in ("char", "unicodeChar"):
        return pa.string()
    if not field.arraysize:
        return SCALAR[field.datatype]
    return pa.list_(SCALAR[field.datatype])


def footer_arraysize(field, values):
    """The arraysize the footer declares: text, the longest value, variable; fixed arrays
    variable in their last dimension; others as in the VOTable."""
    if field.datatype in ("char", "unicodeChar"):
        longest = max((len(v) for v in values if v is not None), default=0)
        return "%d*" % max(longest, 1)
    size = field.arraysize
    if size and not size.endswith("*"):
        dims = size.split("x")
        return "x".join(dims[:-1] + ["*"])
    return size


def same_type(actual, expected):
    if pa.types.is_list(expected):
        return pa.types.is_list(actual) and actual.value_type == expected.value_type
    return actual == expected


def is_null(column, row):
    """A null cell: astropy masks all of it (a fixed array's every element)."""
    mask = np.ma.getmaskarray(column)[row]
    return bool(np.size(mask)) and bool(np.all(mask))


def same_value(pv, vv, field):
    """pyarrow's value (Python) against astropy's VOTable value (numpy)."""
    if isinstance(pv, list):
        got = np.asarray(vv).ravel().tolist()
        return len(got) == len(pv) and all(same_scalar(a, b) for a, b in zip(pv, got))
    if isinstance(pv, str):
        text = vv.decode() if isinstance(vv, bytes) else str(vv)
        return pv == text
    return same_scalar(pv, vv.item() if hasattr(vv, "item") else vv)


def same_scalar(a, b):
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def check_width_key(kv, name, values):
    """astropy's `table::len::NAME` footer key: the longest value in characters, or absent
    when the column has a null (astropy would read the null as the text 'None')."""
    key = kv.get(("table::len::" + name).encode())
    if any(v is None for v in values):
        print("width key %s: %s (has nulls)" % (name, key.decode() if key else "absent"))
        if key is not None:
            fail("column %s has nulls but a table::len key %r" % (name, key))
        return
    longest = max(max((len(v) for v in values), default=0), 1)
    print("width key %s: %s" % (name, key.decode() if key else "absent"))
    if key != str(longest).encode():
        fail("column %s: table::len key %r, longest value %d characters" % (name, key, longest))


def last_status(table_resource_infos):
    statuses = [i.value for i in table_resource_infos if i.name == "QUERY_STATUS"]
    return statuses[-1] if statuses else None


def main(vot_path, parquet_path, status):
    vot = votable.parse(vot_path)
    vtable = vot.get_first_table()
    varray = vtable.array
    vfields = vtable.fields

    pfile = pq.ParquetFile(parquet_path)
    kv = pfile.metadata.metadata or {}
    print("footer keys: " + " ".join(sorted(k.decode() for k in kv if k.startswith(b"IVOA."))))
    if kv.get(b"IVOA.VOTable-Parquet.version") != b"1.0":
        fail("IVOA.VOTable-Parquet.version is %r" % kv.get(b"IVOA.VOTable-Parquet.version"))
    content = kv.get(b"IVOA.VOTable-Parquet.content", b"")
    if b"<DATA" in content:
        fail("the footer VOTable has a DATA element")
    meta = votable.parse(io.BytesIO(content))
    mtable = meta.get_first_table()
    resource = meta.resources[0]
    found = last_status(resource.infos)
    print("footer QUERY_STATUS: %s" % found)
    if found != status:
        fail("footer QUERY_STATUS %s, expected %s" % (found, status))
    for info in resource.infos:
        if info.name == "QUERY_STATUS" and info.value == "ERROR":
            print("footer error message: %s" % (info.content or "").strip())

    table = pfile.read()
    attrs = ("name", "datatype", "unit", "ucd", "xtype", "utype", "ref", "description")
    if len(mtable.fields) != len(vfields):
        fail("%d footer FIELDs for %d VOTable FIELDs" % (len(mtable.fields), len(vfields)))
    for i, (mf, vf) in enumerate(zip(mtable.fields, vfields)):
        for attr in attrs:
            if str(getattr(mf, attr)) != str(getattr(vf, attr)):
                fail("FIELD %s: %s %r in the footer, %r in the VOTable"
                     % (vf.name, attr, getattr(mf, attr), getattr(vf, attr)))
        expected = footer_arraysize(vf, table.column(i).to_pylist())
        if mf.arraysize != expected:
            fail("FIELD %s: arraysize %r in the footer, expected %r (VOTable %r)"
                 % (vf.name, mf.arraysize, expected, vf.arraysize))
        if vf.datatype in ("char", "unicodeChar"):
            check_width_key(kv, vf.name, table.column(i).to_pylist())

    print("rows: parquet %d, votable %d; row groups %d"
          % (table.num_rows, len(varray), pfile.metadata.num_row_groups))
    if table.num_rows != len(varray):
        fail("row counts differ")
    if table.schema.names != [f.name for f in vfields]:
        fail("column names %s" % table.schema.names)
    nulls = 0
    for i, field in enumerate(vfields):
        column = table.column(i)
        expected = expected_type(field)
        print("column %s: %s%s -> %s" % (field.name, field.datatype,
                                          "[%s]" % field.arraysize if field.arraysize else "",
                                          column.type))
        if not same_type(column.type, expected):
            fail("column %s has type %s, expected %s" % (field.name, column.type, expected))
        vcol = varray[field.name]
        values = column.to_pylist()
        for row, pv in enumerate(values):
            vnull = is_null(vcol, row)
            if pv is None and field.datatype in ("char", "unicodeChar") and not vnull:
                # BINARY2 flags the null, but astropy's VOTable reader keeps no mask for
                # variable-length text: it gives ''.
                vnull = np.ma.getdata(vcol)[row] in ("", b"")
            if pv is None or vnull:
                nulls += pv is None
                if (pv is None) != vnull:
                    fail("column %s row %d: parquet %r, votable %r (null: %s)"
                         % (field.name, row, pv, vcol[row], vnull))
                continue
            if not same_value(pv, np.ma.getdata(vcol)[row], field):
                fail("column %s row %d: parquet %r, votable %r"
                     % (field.name, row, pv, np.ma.getdata(vcol)[row]))
    print("nulls: %d" % nulls)

    # astropy's own reader, as a scientist would call it.
    try:
        t = Table.read(parquet_path, format="parquet.votable")
        print("astropy parquet.votable: %d rows" % len(t))
        for field in vfields:
            col = t[field.name]
            unit = str(col.unit) if col.unit is not None else ""
            print("astropy column %s: dtype %s unit %s ucd %s description %s"
                  % (field.name, col.dtype, unit or "-", col.meta.get("ucd", "-"),
                     "yes" if col.description else "-"))
            if field.datatype in ("char", "unicodeChar"):
                # The text astropy made of each value is the value itself (no cut, no pad).
                expected = table.column(field.name).to_pylist()
                if list(t[field.name]) != expected:
                    fail("astropy column %s: values differ from pyarrow's" % field.name)
    except Exception as e:  # reported, not asserted: astropy's limits are not Tapir's
        print("astropy parquet.votable: FAILED %s: %s" % (type(e).__name__, e))

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
