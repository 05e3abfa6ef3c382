//! Exact output of the text formats on the common table (every datatype, a row of nulls).

mod common;

use common::{text, write_format};
use votable::Ending;

const TD_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OK"/>
<INFO name="QUERY" value="SELECT * FROM t WHERE a &lt; 1 AND b = 'x'"/>
<INFO name="standardID" value="ivo://ivoa.net/std/TAP"/>
<COOSYS ID="sys" system="ICRS" epoch="J2000.0"/>
<TABLE>
<FIELD name="flag" datatype="boolean"/>
<FIELD name="s" datatype="short"/>
<FIELD name="i" datatype="int"/>
<FIELD name="l" datatype="long" ucd="meta.id;meta.main"><DESCRIPTION>row &lt;id&gt; &amp; "key"</DESCRIPTION></FIELD>
<FIELD name="f" datatype="float" unit="mag"/>
<FIELD name="d" datatype="double" unit="deg" ucd="pos.eq.ra"/>
<FIELD name="name" datatype="char" arraysize="*"/>
<FIELD name="uname" datatype="unicodeChar" arraysize="*"/>
<FIELD name="code" datatype="char" arraysize="4"/>
<FIELD name="ub" datatype="unsignedByte"/>
<FIELD name="t" datatype="char" arraysize="*" xtype="timestamp"/>
<FIELD name="pos" datatype="double" arraysize="2" xtype="point" ref="sys" unit="deg"/>
<FIELD name="circ" datatype="double" arraysize="3" xtype="circle" unit="deg"/>
<FIELD name="poly" datatype="double" arraysize="*" xtype="polygon" unit="deg"/>
<FIELD name="blob" datatype="unsignedByte" arraysize="*" xtype="adql:blob"/>
<FIELD name="c" datatype="char"/>
<FIELD name="m" datatype="float" arraysize="2x2"/>
"#;

const TD_ROWS: &str = "<DATA><TABLEDATA>
<TR><TD>T</TD><TD>1</TD><TD>2</TD><TD>3</TD><TD>1.5</TD><TD>2.25</TD><TD>a&lt;b&amp;\"c\"</TD><TD>é✓</TD>\
<TD>AB</TD><TD>7</TD><TD>2024-07-01T01:02:03.500</TD><TD>10.5 -20.25</TD><TD>1.0 2.0 0.5</TD>\
<TD>0.0 0.0 1.0 0.0 1.0 1.0</TD><TD>0 255 7</TD><TD>x</TD><TD>1.0 2.0 3.0 4.0</TD></TR>
<TR><TD>F</TD><TD>-32767</TD><TD>2147483647</TD><TD>9223372036854775807</TD><TD>NaN</TD><TD>-Inf</TD>\
<TD>line1\nline2,\ttab</TD><TD></TD><TD>ABCDEFG</TD><TD>0</TD><TD>1970-01-01T00:00:00</TD><TD>359.75 89.5</TD>\
<TD>0.0 -90.0 180.0</TD><TD></TD><TD></TD><TD>y</TD><TD>NaN 0.25 -0.5 1e+30</TD></TR>
<TR><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/><TD/></TR>
</TABLEDATA></DATA>
</TABLE>
";

#[test]
fn tabledata_exact() {
    let expected = format!(
        "{TD_HEAD}{TD_ROWS}<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>\n</RESOURCE>\n</VOTABLE>\n"
    );
    assert_eq!(text(&write_format("votable/td", Ending::Overflow)), expected);
    // Same document for every TABLEDATA alias; only the content type differs.
    assert_eq!(text(&write_format("votable_plain", Ending::Overflow)), expected);
    assert_eq!(
        text(&write_format(
            "text/xml;serialization=TABLEDATA",
            Ending::Overflow
        )),
        expected
    );
}

#[test]
fn tabledata_endings() {
    let complete = format!("{TD_HEAD}{TD_ROWS}</RESOURCE>\n</VOTABLE>\n");
    assert_eq!(text(&write_format("votable/td", Ending::Complete)), complete);
    let error = format!(
        "{TD_HEAD}{TD_ROWS}<INFO name=\"QUERY_STATUS\" value=\"ERROR\">query timed out &amp; was \
         cancelled</INFO>\n</RESOURCE>\n</VOTABLE>\n"
    );
    assert_eq!(
        text(&write_format(
            "votable/td",
            Ending::Error("query timed out & was cancelled")
        )),
        error
    );
}

const CSV: &str = "flag,s,i,l,f,d,name,uname,code,ub,t,pos,circ,poly,blob,c,m\r
true,1,2,3,1.5,2.25,\"a<b&\"\"c\"\"\",é✓,AB,7,2024-07-01T01:02:03.500,10.5 -20.25,1.0 2.0 0.5,\
0.0 0.0 1.0 0.0 1.0 1.0,0 255 7,x,1.0 2.0 3.0 4.0\r
false,-32767,2147483647,9223372036854775807,NaN,-Inf,\"line1\nline2,\ttab\",\"\",ABCDEFG,0,\
1970-01-01T00:00:00,359.75 89.5,0.0 -90.0 180.0,,,y,NaN 0.25 -0.5 1e+30\r
,,,,,,,,,,,,,,,,\r
";

#[test]
fn csv_exact() {
    for ending in [Ending::Complete, Ending::Overflow, Ending::Error("boom")] {
        assert_eq!(text(&write_format("csv", ending)), CSV);
    }
    let mut writer = votable::writer_for("text/csv;header=absent").unwrap();
    let out = common::write_all(writer.as_mut(), Ending::Complete);
    assert_eq!(text(&out), CSV.split_once("\r\n").unwrap().1);
    assert_eq!(writer.content_type(), "text/csv;header=absent");
    assert!(!writer.reports_errors());
    assert_eq!(
        votable::writer_for("csv").unwrap().content_type(),
        "text/csv;header=present"
    );
}

const TSV: &str = "flag\ts\ti\tl\tf\td\tname\tuname\tcode\tub\tt\tpos\tcirc\tpoly\tblob\tc\tm
true\t1\t2\t3\t1.5\t2.25\ta<b&\"c\"\té✓\tAB\t7\t2024-07-01T01:02:03.500\t10.5 -20.25\t1.0 2.0 0.5\t\
0.0 0.0 1.0 0.0 1.0 1.0\t0 255 7\tx\t1.0 2.0 3.0 4.0
false\t-32767\t2147483647\t9223372036854775807\tNaN\t-Inf\tline1\\nline2,\\ttab\t\tABCDEFG\t0\t\
1970-01-01T00:00:00\t359.75 89.5\t0.0 -90.0 180.0\t\t\ty\tNaN 0.25 -0.5 1e+30
\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t
";

#[test]
fn tsv_exact() {
    assert_eq!(text(&write_format("tsv", Ending::Complete)), TSV);
    assert_eq!(
        text(&write_format("text/tab-separated-values", Ending::Error("x"))),
        TSV
    );
}

const JSON_META: &str = r#"{"metadata":[
{"name":"flag","datatype":"boolean","xtype":null,"arraysize":null,"description":null,"unit":null,"ucd":null,"utype":null},
{"name":"s","datatype":"short","xtype":null,"arraysize":null,"description":null,"unit":null,"ucd":null,"utype":null},
{"name":"i","datatype":"int","xtype":null,"arraysize":null,"description":null,"unit":null,"ucd":null,"utype":null},
{"name":"l","datatype":"long","xtype":null,"arraysize":null,"description":"row <id> & \"key\"","unit":null,"ucd":"meta.id;meta.main","utype":null},
{"name":"f","datatype":"float","xtype":null,"arraysize":null,"description":null,"unit":"mag","ucd":null,"utype":null},
{"name":"d","datatype":"double","xtype":null,"arraysize":null,"description":null,"unit":"deg","ucd":"pos.eq.ra","utype":null},
{"name":"name","datatype":"char","xtype":null,"arraysize":"*","description":null,"unit":null,"ucd":null,"utype":null},
{"name":"uname","datatype":"unicodeChar","xtype":null,"arraysize":"*","description":null,"unit":null,"ucd":null,"utype":null},
{"name":"code","datatype":"char","xtype":null,"arraysize":"4","description":null,"unit":null,"ucd":null,"utype":null},
{"name":"ub","datatype":"unsignedByte","xtype":null,"arraysize":null,"description":null,"unit":null,"ucd":null,"utype":null},
{"name":"t","datatype":"char","xtype":"timestamp","arraysize":"*","description":null,"unit":null,"ucd":null,"utype":null},
{"name":"pos","datatype":"double","xtype":"point","arraysize":"2","description":null,"unit":"deg","ucd":null,"utype":null},
{"name":"circ","datatype":"double","xtype":"circle","arraysize":"3","description":null,"unit":"deg","ucd":null,"utype":null},
{"name":"poly","datatype":"double","xtype":"polygon","arraysize":"*","description":null,"unit":"deg","ucd":null,"utype":null},
{"name":"blob","datatype":"unsignedByte","xtype":"adql:blob","arraysize":"*","description":null,"unit":null,"ucd":null,"utype":null},
{"name":"c","datatype":"char","xtype":null,"arraysize":null,"description":null,"unit":null,"ucd":null,"utype":null},
{"name":"m","datatype":"float","xtype":null,"arraysize":"2x2","description":null,"unit":null,"ucd":null,"utype":null}
],
"data":["#;

const JSON_ROWS: &str = r#"
[true,1,2,3,1.5,2.25,"a<b&\"c\"","é✓","AB",7,"2024-07-01T01:02:03.500",[10.5,-20.25],[1.0,2.0,0.5],[0.0,0.0,1.0,0.0,1.0,1.0],[0,255,7],"x",[1.0,2.0,3.0,4.0]],
[false,-32767,2147483647,9223372036854775807,null,null,"line1\nline2,\ttab","","ABCDEFG",0,"1970-01-01T00:00:00",[359.75,89.5],[0.0,-90.0,180.0],[],[],"y",[null,0.25,-0.5,1e+30]],
[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null]
]"#;

#[test]
fn json_exact() {
    assert_eq!(
        text(&write_format("json", Ending::Complete)),
        format!("{JSON_META}{JSON_ROWS}}}\n")
    );
    assert_eq!(
        text(&write_format("application/json", Ending::Overflow)),
        format!("{JSON_META}{JSON_ROWS},\n\"query_status\":\"OVERFLOW\"}}\n")
    );
    assert_eq!(
        text(&write_format("json", Ending::Error("bad \"thing\""))),
        format!("{JSON_META}{JSON_ROWS},\n\"query_status\":\"ERROR\",\n\"error\":\"bad \\\"thing\\\"\"}}\n")
    );
}

#[test]
fn json_parses_with_python_when_available() {
    // An independent JSON parser, if the machine has one: same key order, nulls, NaN -> null.
    let Ok(python) = which("python3") else {
        println!("note: python3 not found; skipping the independent JSON check");
        return;
    };
    let doc = write_format("json", Ending::Overflow);
    let dir = common_tempdir("json");
    let path = dir.join("result.json");
    std::fs::write(&path, &doc).unwrap();
    let script = "import json,sys; d=json.load(open(sys.argv[1])); \
                  print(len(d['metadata']), len(d['data']), d['data'][1][4], d['data'][2][0], d['query_status'], \
                  d['data'][0][11], list(d['metadata'][3].keys()))";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "17 3 None None OVERFLOW [10.5, -20.25] ['name', 'datatype', 'xtype', 'arraysize', 'description', \
         'unit', 'ucd', 'utype']\n"
    );
}

fn which(cmd: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(cmd))
        .find(|p| p.is_file())
        .ok_or(())
}

fn common_tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapir-votable-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const TEXT: &str = "\
flag  |      s |           i |                    l |             f |                    d | name                 | uname                | code |  ub | t                       | pos                   | circ                             | poly                                     | blob                                     | c | m
------+--------+-------------+----------------------+---------------+----------------------+----------------------+----------------------+------+-----+-------------------------+-----------------------+----------------------------------+------------------------------------------+------------------------------------------+---+--------------------------------------------
true  |      1 |           2 |                    3 |           1.5 |                 2.25 | a<b&\"c\"              | é✓                   | AB   |   7 | 2024-07-01T01:02:03.500 | 10.5 -20.25           | 1.0 2.0 0.5                      | 0.0 0.0 1.0 0.0 1.0 1.0                  | 0 255 7                                  | x | 1.0 2.0 3.0 4.0
false | -32767 |  2147483647 |  9223372036854775807 |           NaN |                 -Inf | line1\\nline2,\\ttab   |                      | ABCDEFG |   0 | 1970-01-01T00:00:00     | 359.75 89.5           | 0.0 -90.0 180.0                  |                                          |                                          | y | NaN 0.25 -0.5 1e+30
      |        |             |                      |               |                      |                      |                      |      |     |                         |                       |                                  |                                          |                                          |   | 
";

#[test]
fn text_exact() {
    assert_eq!(
        text(&write_format("text", Ending::Complete)),
        format!("{TEXT}(3 rows)\n")
    );
    assert_eq!(
        text(&write_format("text/plain", Ending::Overflow)),
        format!("{TEXT}(3 rows; the row limit (MAXREC) was reached and more rows exist)\n")
    );
    assert_eq!(
        text(&write_format("txt", Ending::Error("disk\nfull"))),
        format!("{TEXT}(3 rows)\nERROR: disk\\nfull\n")
    );
}

#[test]
fn html_content() {
    let out = text(&write_format("html", Ending::Error("it <broke>")));
    assert!(out.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"));
    assert!(out.contains(
        "<pre>SELECT * FROM t WHERE a &lt; 1 AND b = 'x'</pre>\n<table>\n<thead>\n<tr><th>flag</th>"
    ));
    assert!(out.contains(
        "<th title=\"ucd: meta.id;meta.main&#10;description: row &lt;id&gt; &amp; &quot;key&quot;\">l</th>"
    ));
    assert!(out.contains(
        "<tr><td>true</td><td>1</td><td>2</td><td>3</td><td>1.5</td><td>2.25</td><td>a&lt;b&amp;\"c\"</td>\
         <td>é✓</td><td>AB</td><td>7</td><td>2024-07-01T01:02:03.500</td><td>10.5 -20.25</td>"
    ));
    assert!(out.contains(&format!(
        "<tr>{}</tr>\n</tbody>\n</table>\n",
        "<td></td>".repeat(17)
    )));
    assert!(out.ends_with("</table>\n<p><strong>Error:</strong> it &lt;broke&gt;</p>\n</body>\n</html>\n"));
    assert_eq!(out.matches("<tr>").count(), 4);
    let overflow = text(&write_format("text/html", Ending::Overflow));
    assert!(overflow.ends_with(
        "<p>Only the first 3 rows are shown: the row limit (MAXREC) was reached.</p>\n</body>\n</html>\n"
    ));
    let complete = text(&write_format("html", Ending::Complete));
    assert!(complete.ends_with("</tbody>\n</table>\n</body>\n</html>\n"));
}

#[test]
fn error_document_exact() {
    let doc = votable::error_document("unknown query language: 'SQL' <&>");
    assert_eq!(
        text(&doc),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\">\n\
         <RESOURCE type=\"results\">\n\
         <INFO name=\"QUERY_STATUS\" value=\"ERROR\">unknown query language: 'SQL' &lt;&amp;&gt;</INFO>\n\
         </RESOURCE>\n</VOTABLE>\n"
    );
}

/// The body lines of `format`'s output for the array table, from the line starting `first`.
fn array_lines(format: &str, first: &str, count: usize) -> Vec<String> {
    let out = text(&common::write_arrays(format));
    let start = out
        .find(first)
        .unwrap_or_else(|| panic!("{format}: no {first:?} in {out}"));
    out[start..].lines().take(count).map(str::to_owned).collect()
}

#[test]
fn integer_float_and_boolean_arrays_in_text_formats() {
    let td = text(&common::write_arrays("votable/td"));
    for field in [
        "<FIELD name=\"ss\" datatype=\"short\" arraysize=\"*\"/>",
        "<FIELD name=\"ii\" datatype=\"int\" arraysize=\"3\"/>",
        "<FIELD name=\"ll\" datatype=\"long\" arraysize=\"*\"/>",
        "<FIELD name=\"ff\" datatype=\"float\" arraysize=\"*\"/>",
        "<FIELD name=\"bb\" datatype=\"boolean\" arraysize=\"*\"/>",
    ] {
        assert!(td.contains(field), "{field} not in {td}");
    }
    assert_eq!(
        array_lines("votable/td", "<TR>", 3),
        [
            "<TR><TD>1 -2 32767</TD><TD>1 2 -3</TD><TD>9223372036854775807 0</TD><TD>1.5 NaN</TD>\
             <TD>T F T</TD></TR>",
            "<TR><TD></TD><TD>-2147483648 0 7</TD><TD></TD><TD></TD><TD></TD></TR>",
            "<TR><TD/><TD/><TD/><TD/><TD/></TR>",
        ]
    );
    assert_eq!(
        array_lines("csv", "ss,", 4),
        [
            "ss,ii,ll,ff,bb",
            "1 -2 32767,1 2 -3,9223372036854775807 0,1.5 NaN,true false true",
            ",-2147483648 0 7,,,",
            ",,,,",
        ]
    );
    assert_eq!(
        array_lines("tsv", "ss\t", 4),
        [
            "ss\tii\tll\tff\tbb",
            "1 -2 32767\t1 2 -3\t9223372036854775807 0\t1.5 NaN\ttrue false true",
            "\t-2147483648 0 7\t\t\t",
            "\t\t\t\t",
        ]
    );
    let lines = array_lines("text", "1 -2 32767", 2);
    let cells: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split('|').map(str::trim).collect())
        .collect();
    assert_eq!(
        cells,
        [
            vec![
                "1 -2 32767",
                "1 2 -3",
                "9223372036854775807 0",
                "1.5 NaN",
                "true false true"
            ],
            vec!["", "-2147483648 0 7", "", "", ""],
        ]
    );
    assert_eq!(
        array_lines("json", "[[1,", 3),
        [
            "[[1,-2,32767],[1,2,-3],[9223372036854775807,0],[1.5,null],[true,false,true]],",
            "[[],[-2147483648,0,7],[],[],[]],",
            "[null,null,null,null,null]",
        ]
    );
    assert!(text(&common::write_arrays("json"))
        .contains("{\"name\":\"bb\",\"datatype\":\"boolean\",\"xtype\":null,\"arraysize\":\"*\""));
    assert_eq!(
        array_lines("html", "<tr><td>", 2),
        [
            "<tr><td>1 -2 32767</td><td>1 2 -3</td><td>9223372036854775807 0</td><td>1.5 NaN</td>\
             <td>true false true</td></tr>",
            "<tr><td></td><td>-2147483648 0 7</td><td></td><td></td><td></td></tr>",
        ]
    );
}

const ECSV_HEAD: &str = r#"# %ECSV 1.0
# ---
# datatype:
# - {name: "flag", datatype: bool}
# - {name: "s", datatype: int16}
# - {name: "i", datatype: int32}
# - {name: "l", datatype: int64, description: "row <id> & \"key\"", meta: {ucd: "meta.id;meta.main"}}
# - {name: "f", unit: "mag", datatype: float32}
# - {name: "d", unit: "deg", datatype: float64, meta: {ucd: "pos.eq.ra"}}
# - {name: "name", datatype: string}
# - {name: "name.mask", datatype: bool}
# - {name: "uname", datatype: string}
# - {name: "uname.mask", datatype: bool}
# - {name: "code", datatype: string}
# - {name: "code.mask", datatype: bool}
# - {name: "ub", datatype: uint8}
# - {name: "t", datatype: string, meta: {xtype: "timestamp"}}
# - {name: "t.mask", datatype: bool}
# - {name: "pos", unit: "deg", datatype: string, subtype: 'float64[2]', meta: {xtype: "point"}}
# - {name: "circ", unit: "deg", datatype: string, subtype: 'float64[3]', meta: {xtype: "circle"}}
# - {name: "poly", unit: "deg", datatype: string, subtype: 'float64[null]', meta: {xtype: "polygon"}}
# - {name: "blob", datatype: string, subtype: 'uint8[null]', meta: {xtype: "adql:blob"}}
# - {name: "c", datatype: string}
# - {name: "c.mask", datatype: bool}
# - {name: "m", datatype: string, subtype: 'float32[2,2]'}
# delimiter: ','
# meta:
#   "QUERY": "SELECT * FROM t WHERE a < 1 AND b = 'x'"
#   "standardID": "ivo://ivoa.net/std/TAP"
#   __serialized_columns__:
"#;

const ECSV_ROWS: &str = r#"# schema: astropy-2.0
flag,s,i,l,f,d,name,name.mask,uname,uname.mask,code,code.mask,ub,t,t.mask,pos,circ,poly,blob,c,c.mask,m
True,1,2,3,1.5,2.25,"a<b&""c""",False,é✓,False,AB,False,7,2024-07-01T01:02:03.500,False,"[10.5,-20.25]","[1.0,2.0,0.5]","[0.0,0.0,1.0,0.0,1.0,1.0]","[0,255,7]",x,False,"[[1.0,2.0],[3.0,4.0]]"
False,-32767,2147483647,9223372036854775807,nan,-inf,"line1
line2,	tab",False,"",False,ABCDEFG,False,0,1970-01-01T00:00:00,False,"[359.75,89.5]","[0.0,-90.0,180.0]","[]","[]",y,False,"[[NaN,0.25],[-0.5,1e+30]]"
,,,,,,,True,,True,,True,,,True,,,,,,True,
"#;

/// The `__serialized_columns__` entry that joins a text column and its mask.
fn serialized(name: &str) -> String {
    format!(
        "#     \"{name}\": {{__class__: astropy.table.column.MaskedColumn, data: \
         !astropy.table.SerializedColumn {{name: \"{name}\"}}, mask: \
         !astropy.table.SerializedColumn {{name: \"{name}.mask\"}}}}\n"
    )
}

#[test]
fn ecsv_exact() {
    let pairs: String = ["name", "uname", "code", "t", "c"].map(serialized).concat();
    let expected = format!("{ECSV_HEAD}{pairs}{ECSV_ROWS}");
    // Nothing marks overflow or errors: astropy would skip a trailing comment anyway.
    for ending in [Ending::Complete, Ending::Overflow, Ending::Error("boom")] {
        assert_eq!(text(&write_format("ecsv", ending)), expected);
    }
    let writer = votable::writer_for("ecsv").unwrap();
    assert_eq!(writer.content_type(), "text/x-ecsv");
    assert_eq!(writer.format(), votable::Format::Ecsv);
    assert!(!writer.reports_errors());
    assert_eq!(
        text(&common::write_arrays("ecsv")),
        "# %ECSV 1.0
# ---
# datatype:
# - {name: \"ss\", datatype: string, subtype: 'int16[null]'}
# - {name: \"ii\", datatype: string, subtype: 'int32[3]'}
# - {name: \"ll\", datatype: string, subtype: 'int64[null]'}
# - {name: \"ff\", datatype: string, subtype: 'float32[null]'}
# - {name: \"bb\", datatype: string, subtype: 'bool[null]'}
# delimiter: ','
# schema: astropy-2.0
ss,ii,ll,ff,bb
\"[1,-2,32767]\",\"[1,2,-3]\",\"[9223372036854775807,0]\",\"[1.5,NaN]\",\"[true,false,true]\"
\"[]\",\"[-2147483648,0,7]\",\"[]\",\"[]\",\"[]\"
,,,,
"
    );
}

#[test]
fn ecsv_names_and_metadata_are_escaped() {
    use votable::{Datatype, Field, TableMeta, Value};
    let fields = [
        Field::new("#a,b", Datatype::Char)
            .with_arraysize("*")
            .with_unit("m\ns")
            .with_description("tab\there \u{2028} \"q\""),
        Field::new("#a,b.mask", Datatype::Int).with_utype("u:t"),
    ];
    let mut writer = votable::writer_for("ecsv").unwrap();
    let mut out = Vec::new();
    writer
        .begin(&mut out, &TableMeta::new(&fields).with_infos(&[("x\"y", "1\n2")]))
        .unwrap();
    writer
        .row(&mut out, &[Value::Text(" padded "), Value::Int(7)])
        .unwrap();
    writer.end(&mut out, Ending::Complete).unwrap();
    let doc = text(&out);
    assert!(
        doc.contains(
            "# - {name: \"#a,b\", unit: \"m\\ns\", datatype: string, description: \"tab\\there \\u2028 \\\"q\\\"\"}\n\
             # - {name: \"#a,b.mask2\", datatype: bool}\n\
             # - {name: \"#a,b.mask\", datatype: int32, meta: {utype: \"u:t\"}}\n"
        ),
        "{doc}"
    );
    assert!(doc.contains("#   \"x\\\"y\": \"1\\n2\"\n"), "{doc}");
    assert!(
        doc.ends_with("\"#a,b\",\"#a,b.mask2\",\"#a,b.mask\"\n\" padded \",False,7\n"),
        "{doc}"
    );
}
