//! ADQL value types, as far as the checker needs them, and their VOTable rendering.
//!
//! The checker infers a type for every expression so that it can reject mixes that
//! PostgreSQL would only report cryptically, and so that every output column gets
//! the right VOTable FIELD (datatype, arraysize, xtype).

/// The type of an ADQL value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdqlType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    /// Fixed-length characters (`CHAR(n)`); `None` is one character.
    Char(Option<u32>),
    /// Variable-length characters, with an optional maximum.
    VarChar(Option<u32>),
    Timestamp,
    Boolean,
    /// Byte strings (`bytea`): `unsignedByte` arrays in VOTable.
    Blob,
    Point,
    Circle,
    Polygon,
    /// A geometry whose exact shape is not known statically (REGION, BOX as polygon, CENTROID inputs).
    Region,
    /// The NULL literal: fits anywhere.
    Null,
    /// Not known (open placeholder tables, untyped catalogue columns): the checker lets it pass.
    Unknown,
}

/// Broad families used by the type rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Numeric,
    String,
    Timestamp,
    Boolean,
    Blob,
    Geometry,
    Any,
}

impl AdqlType {
    pub fn family(self) -> Family {
        use AdqlType::*;
        match self {
            SmallInt | Integer | BigInt | Real | Double => Family::Numeric,
            Char(_) | VarChar(_) => Family::String,
            Timestamp => Family::Timestamp,
            Boolean => Family::Boolean,
            Blob => Family::Blob,
            Point | Circle | Polygon | Region => Family::Geometry,
            Null | Unknown => Family::Any,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self.family(), Family::Numeric | Family::Any)
    }
    pub fn is_string(self) -> bool {
        matches!(self.family(), Family::String | Family::Any)
    }
    pub fn is_geometry(self) -> bool {
        matches!(self.family(), Family::Geometry | Family::Any)
    }
    pub fn is_exact_integer(self) -> bool {
        matches!(self, AdqlType::SmallInt | AdqlType::Integer | AdqlType::BigInt)
    }

    /// A short name for error messages.
    pub fn describe(self) -> &'static str {
        use AdqlType::*;
        match self {
            SmallInt => "SMALLINT",
            Integer => "INTEGER",
            BigInt => "BIGINT",
            Real => "REAL",
            Double => "DOUBLE PRECISION",
            Char(_) => "CHAR",
            VarChar(_) => "VARCHAR",
            Timestamp => "TIMESTAMP",
            Boolean => "BOOLEAN",
            Blob => "BLOB",
            Point => "POINT",
            Circle => "CIRCLE",
            Polygon => "POLYGON",
            Region => "REGION",
            Null => "NULL",
            Unknown => "unknown type",
        }
    }

    /// The result type of arithmetic between two numeric types (SQL's widening rules).
    pub fn widen(a: AdqlType, b: AdqlType) -> AdqlType {
        use AdqlType::*;
        fn rank(t: AdqlType) -> u8 {
            match t {
                SmallInt => 1,
                Integer => 2,
                BigInt => 3,
                Real => 4,
                Double => 5,
                _ => 0,
            }
        }
        match (a, b) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Null, x) | (x, Null) => x,
            _ if rank(a) >= rank(b) => a,
            _ => b,
        }
    }

    /// Map TAP_SCHEMA's (datatype, arraysize, xtype) to a type. Accepts the VOTable
    /// names of TAP 1.1 and the `adql:` names of TAP 1.0, since real TAP_SCHEMAs hold both.
    pub fn from_tap(datatype: &str, arraysize: Option<&str>, xtype: Option<&str>) -> AdqlType {
        use AdqlType::*;
        let dt = datatype.trim().to_ascii_lowercase();
        let dt = dt.strip_prefix("adql:").unwrap_or(&dt);
        let xt = xtype.map(|x| x.trim().to_ascii_lowercase());
        let xt = xt.as_deref().map(|x| x.strip_prefix("adql:").unwrap_or(x));
        match xt {
            Some("timestamp") => return Timestamp,
            Some("point") => return Point,
            Some("circle") => return Circle,
            Some("polygon") => return Polygon,
            Some("region" | "moc" | "shape" | "multipolygon") => return Region,
            _ => {}
        }
        let size = arraysize.map(str::trim).filter(|s| !s.is_empty());
        let fixed_len = size.and_then(|s| s.parse::<u32>().ok());
        match dt {
            "short" | "smallint" => SmallInt,
            "int" | "integer" => Integer,
            "long" | "bigint" => BigInt,
            "float" | "real" => Real,
            "double" | "double precision" => Double,
            "boolean" => Boolean,
            "unsignedbyte" | "blob" | "binary" | "varbinary" => Blob,
            "char" | "unicodechar" | "varchar" | "clob" => match (dt, size, fixed_len) {
                ("char", None, _) | ("unicodechar", None, _) => Char(None),
                (_, _, Some(n)) if dt != "varchar" => Char(Some(n)),
                (_, Some(s), _) => VarChar(s.trim_end_matches('*').parse().ok()),
                _ => VarChar(None),
            },
            "timestamp" => Timestamp,
            "point" => Point,
            "circle" => Circle,
            "polygon" => Polygon,
            "region" => Region,
            _ => Unknown,
        }
    }

    /// The VOTable FIELD attributes (datatype, arraysize, xtype) of a value of this type.
    pub fn votable(self) -> (&'static str, Option<String>, Option<&'static str>) {
        use AdqlType::*;
        match self {
            SmallInt => ("short", None, None),
            Integer => ("int", None, None),
            BigInt => ("long", None, None),
            Real => ("float", None, None),
            Double => ("double", None, None),
            Boolean => ("boolean", None, None),
            Char(None) => ("char", None, None),
            Char(Some(n)) => ("char", Some(n.to_string()), None),
            VarChar(Some(n)) => ("char", Some(format!("{n}*")), None),
            VarChar(None) | Unknown | Null => ("char", Some("*".into()), None),
            Timestamp => ("char", Some("*".into()), Some("timestamp")),
            Blob => ("unsignedByte", Some("*".into()), None),
            Point => ("double", Some("2".into()), Some("point")),
            Circle => ("double", Some("3".into()), Some("circle")),
            Polygon => ("double", Some("*".into()), Some("polygon")),
            Region => ("char", Some("*".into()), Some("adql:REGION")),
        }
    }
}

/// CAST targets ADQL 2.1 allows (AQ-14), as the checker's type.
pub(crate) fn cast_target(dt: &sqlparser::ast::DataType) -> Result<AdqlType, String> {
    use sqlparser::ast::{CharacterLength, DataType, ExactNumberInfo, TimezoneInfo};
    use AdqlType as T;
    let len = |l: &Option<CharacterLength>| match l {
        Some(CharacterLength::IntegerLength { length, .. }) => {
            Ok(Some(u32::try_from(*length).unwrap_or(u32::MAX)))
        }
        None => Ok(None),
        Some(CharacterLength::Max) => Err("VARCHAR(MAX) is not ADQL".to_string()),
    };
    Ok(match dt {
        DataType::SmallInt(None) => T::SmallInt,
        DataType::Integer(None) | DataType::Int(None) => T::Integer,
        DataType::BigInt(None) => T::BigInt,
        DataType::Real => T::Real,
        DataType::DoublePrecision | DataType::Double(ExactNumberInfo::None) => T::Double,
        DataType::Char(l) | DataType::Character(l) => T::Char(len(l)?.or(Some(1))),
        DataType::Varchar(l) | DataType::CharacterVarying(l) => T::VarChar(len(l)?),
        DataType::Timestamp(None, TimezoneInfo::None) => T::Timestamp,
        DataType::Custom(name, mods) if mods.is_empty() && name.0.len() == 1 => {
            match name.to_string().to_ascii_uppercase().as_str() {
                "POINT" => T::Point,
                "CIRCLE" => T::Circle,
                "POLYGON" => T::Polygon,
                other => return Err(format!("CAST to {other} is not ADQL")),
            }
        }
        other => return Err(format!("CAST to {other} is not ADQL")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tap_types_round_trip() {
        for t in [
            AdqlType::SmallInt,
            AdqlType::Integer,
            AdqlType::BigInt,
            AdqlType::Real,
            AdqlType::Double,
            AdqlType::Boolean,
            AdqlType::Char(Some(8)),
            AdqlType::VarChar(None),
            AdqlType::VarChar(Some(16)),
            AdqlType::Timestamp,
            AdqlType::Point,
            AdqlType::Circle,
            AdqlType::Polygon,
        ] {
            let (dt, size, xt) = t.votable();
            assert_eq!(AdqlType::from_tap(dt, size.as_deref(), xt), t, "{t:?}");
        }
        assert_eq!(AdqlType::from_tap("adql:DOUBLE", None, None), AdqlType::Double);
        assert_eq!(
            AdqlType::from_tap("adql:VARCHAR", Some("*"), None),
            AdqlType::VarChar(None)
        );
        assert_eq!(AdqlType::from_tap("adql:POINT", None, None), AdqlType::Point);
    }

    #[test]
    fn widening_follows_sql() {
        assert_eq!(AdqlType::widen(AdqlType::Integer, AdqlType::Real), AdqlType::Real);
        assert_eq!(
            AdqlType::widen(AdqlType::BigInt, AdqlType::SmallInt),
            AdqlType::BigInt
        );
        assert_eq!(
            AdqlType::widen(AdqlType::Null, AdqlType::Double),
            AdqlType::Double
        );
    }
}
