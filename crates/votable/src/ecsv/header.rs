//! The ECSV header: `# %ECSV 1.0`, the YAML column and table description in `# ` lines, and
//! the CSV line of column names.

use super::{push_field, Plan};
use crate::column::Shape;
use crate::{Datatype, TableMeta};

/// Writes everything before the first row.
pub(super) fn write(out: &mut Vec<u8>, meta: &TableMeta<'_>, plans: &[Plan]) {
    out.extend_from_slice(b"# %ECSV 1.0\n# ---\n# datatype:\n");
    for (plan, field) in plans.iter().zip(meta.fields) {
        out.extend_from_slice(b"# - {name: ");
        push_yaml_str(out, &field.name);
        if let Some(unit) = non_empty(&field.unit) {
            out.extend_from_slice(b", unit: ");
            push_yaml_str(out, unit);
        }
        let text = matches!(plan.col.datatype, Datatype::Char | Datatype::UnicodeChar);
        out.extend_from_slice(b", datatype: ");
        if plan.col.shape == Shape::Scalar || text {
            out.extend_from_slice(element_type(plan.col.datatype).as_bytes());
        } else {
            out.extend_from_slice(b"string, subtype: '");
            out.extend_from_slice(element_type(plan.col.datatype).as_bytes());
            push_dims(out, plan);
            out.push(b'\'');
        }
        if let Some(description) = non_empty(&field.description) {
            out.extend_from_slice(b", description: ");
            push_yaml_str(out, description);
        }
        let column_meta = [
            ("ucd", &field.ucd),
            ("utype", &field.utype),
            ("xtype", &field.xtype),
        ];
        let mut first = true;
        for (key, value) in column_meta {
            let Some(value) = non_empty(value) else { continue };
            out.extend_from_slice(if first { b", meta: {" } else { b", " });
            first = false;
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b": ");
            push_yaml_str(out, value);
        }
        if !first {
            out.push(b'}');
        }
        out.extend_from_slice(b"}\n");
        if let Some(mask) = &plan.mask {
            out.extend_from_slice(b"# - {name: ");
            push_yaml_str(out, mask);
            out.extend_from_slice(b", datatype: bool}\n");
        }
    }
    out.extend_from_slice(b"# delimiter: ','\n");
    write_table_meta(out, meta, plans);
    out.extend_from_slice(b"# schema: astropy-2.0\n");
    for (i, plan) in plans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, &plan.col.name);
        if let Some(mask) = &plan.mask {
            out.push(b',');
            push_field(out, mask);
        }
    }
    out.push(b'\n');
}

/// The table `meta`: the query and the INFOs (first of each name), then the pairs of data and
/// mask columns that astropy joins into one masked column. Names starting with `__` are
/// astropy's own and are left out.
fn write_table_meta(out: &mut Vec<u8>, meta: &TableMeta<'_>, plans: &[Plan]) {
    let mut entries: Vec<(&str, &str)> = Vec::with_capacity(1 + meta.infos.len());
    let query = meta.query.map(|q| ("QUERY", q));
    for (name, value) in query.into_iter().chain(meta.infos.iter().copied()) {
        if !name.starts_with("__") && !entries.iter().any(|(seen, _)| *seen == name) {
            entries.push((name, value));
        }
    }
    let masked = plans.iter().any(|p| p.mask.is_some());
    if entries.is_empty() && !masked {
        return;
    }
    out.extend_from_slice(b"# meta:\n");
    for (name, value) in entries {
        out.extend_from_slice(b"#   ");
        push_yaml_str(out, name);
        out.extend_from_slice(b": ");
        push_yaml_str(out, value);
        out.push(b'\n');
    }
    if !masked {
        return;
    }
    out.extend_from_slice(b"#   __serialized_columns__:\n");
    for plan in plans {
        let Some(mask) = &plan.mask else { continue };
        out.extend_from_slice(b"#     ");
        push_yaml_str(out, &plan.col.name);
        out.extend_from_slice(
            b": {__class__: astropy.table.column.MaskedColumn, data: !astropy.table.SerializedColumn {name: ",
        );
        push_yaml_str(out, &plan.col.name);
        out.extend_from_slice(b"}, mask: !astropy.table.SerializedColumn {name: ");
        push_yaml_str(out, mask);
        out.extend_from_slice(b"}}\n");
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// The ECSV name of a VOTable primitive (of a scalar, or of the elements of an array).
fn element_type(datatype: Datatype) -> &'static str {
    match datatype {
        Datatype::Boolean => "bool",
        Datatype::Short => "int16",
        Datatype::Int => "int32",
        Datatype::Long => "int64",
        Datatype::Float => "float32",
        Datatype::Double => "float64",
        Datatype::UnsignedByte => "uint8",
        // Bit and the complex types never reach a writer (`Column::from_field` refuses them).
        Datatype::Char
        | Datatype::UnicodeChar
        | Datatype::Bit
        | Datatype::FloatComplex
        | Datatype::DoubleComplex => "string",
    }
}

/// The shape part of a subtype: `[n]`, `[B,A]` for a VOTable `AxB` (numpy's order, slowest
/// first), `[null]` for any variable length.
fn push_dims(out: &mut Vec<u8>, plan: &Plan) {
    let mut digits = itoa::Buffer::new();
    match plan.col.shape {
        Shape::Fixed(n) if plan.col.dims.len() <= 1 => {
            out.push(b'[');
            out.extend_from_slice(digits.format(n).as_bytes());
            out.push(b']');
        }
        Shape::Fixed(_) => {
            out.push(b'[');
            for (i, d) in plan.col.dims.iter().rev().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(digits.format(*d).as_bytes());
            }
            out.push(b']');
        }
        Shape::Variable { .. } | Shape::Scalar => out.extend_from_slice(b"[null]"),
    }
}

/// A YAML double-quoted scalar. Escaped: the quote and backslash, and every character that
/// YAML does not allow raw or that would end the `#` line: C0 and C1 controls, DEL, U+2028,
/// U+2029, U+FFFE and U+FFFF.
pub(super) fn push_yaml_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let mut start = 0;
    for (i, c) in text.char_indices() {
        let short: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\t' => b"\\t",
            '\r' => b"\\r",
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}' => {
                b""
            }
            _ => continue,
        };
        out.extend_from_slice(&text.as_bytes()[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let code = c as u32;
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((code >> shift) & 15) as usize]);
            }
        } else {
            out.extend_from_slice(short);
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&text.as_bytes()[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_strings() {
        let mut out = Vec::new();
        push_yaml_str(&mut out, "a \"b\" \\ c\nd\u{1}\u{85}\u{2028}é: #x");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a \\\"b\\\" \\\\ c\\nd\\u0001\\u0085\\u2028é: #x\""
        );
    }
}
