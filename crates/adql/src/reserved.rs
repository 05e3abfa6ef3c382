//! The words ADQL 2.1 reserves (AQ-03): usable as names only when delimited.

/// SQL-92 and ADQL reserved words, upper case, sorted for binary search.
const RESERVED: &[&str] = &[
    "ABS", "ABSOLUTE", "ACOS", "ACTION", "ADD", "ALL", "ALLOCATE", "ALTER", "AND", "ANY", "ARE", "AREA", "AS",
    "ASC", "ASIN", "ASSERTION", "AT", "ATAN", "ATAN2", "AUTHORIZATION", "AVG", "BEGIN", "BETWEEN", "BIGINT",
    "BIT", "BIT_LENGTH", "BOTH", "BOX", "BY", "CASCADE", "CASCADED", "CASE", "CAST", "CATALOG", "CEILING",
    "CENTROID", "CHAR", "CHARACTER", "CHARACTER_LENGTH", "CHAR_LENGTH", "CHECK", "CIRCLE", "CLOSE", "COALESCE",
    "COLLATE", "COLLATION", "COLUMN", "COMMIT", "CONNECT", "CONNECTION", "CONSTRAINT", "CONSTRAINTS", "CONTAINS",
    "CONTINUE", "CONVERT", "COORD1", "COORD2", "COORDSYS", "CORRESPONDING", "COS", "COT", "COUNT", "CREATE",
    "CROSS", "CURRENT", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "DATE",
    "DAY", "DEALLOCATE", "DECIMAL", "DECLARE", "DEFAULT", "DEFERRABLE", "DEFERRED", "DEGREES", "DELETE", "DESC",
    "DESCRIBE", "DESCRIPTOR", "DIAGNOSTICS", "DISCONNECT", "DISTANCE", "DISTINCT", "DOMAIN", "DOUBLE", "DROP",
    "ELSE", "END", "END-EXEC", "ESCAPE", "EXCEPT", "EXCEPTION", "EXEC", "EXECUTE", "EXISTS", "EXP", "EXTERNAL",
    "EXTRACT", "FALSE", "FETCH", "FIRST", "FLOAT", "FLOOR", "FOR", "FOREIGN", "FOUND", "FROM", "FULL", "GET",
    "GLOBAL", "GO", "GOTO", "GRANT", "GROUP", "HAVING", "HOUR", "IDENTITY", "ILIKE", "IMMEDIATE", "IN",
    "INDICATOR", "INITIALLY", "INNER", "INPUT", "INSENSITIVE", "INSERT", "INT", "INTEGER", "INTERSECT",
    "INTERSECTS", "INTERVAL", "INTO", "IN_UNIT", "IS", "ISOLATION", "JOIN", "KEY", "LANGUAGE", "LAST", "LEADING",
    "LEFT", "LEVEL", "LIKE", "LOCAL", "LOG", "LOG10", "LOWER", "MATCH", "MAX", "MIN", "MINUTE", "MOD", "MODULE",
    "MONTH", "NAMES", "NATIONAL", "NATURAL", "NCHAR", "NEXT", "NO", "NOT", "NULL", "NULLIF", "NUMERIC",
    "OCTET_LENGTH", "OF", "OFFSET", "ON", "ONLY", "OPEN", "OPTION", "OR", "ORDER", "OUTER", "OUTPUT", "OVERLAPS",
    "PAD", "PARTIAL", "PI", "POINT", "POLYGON", "POSITION", "POWER", "PRECISION", "PREPARE", "PRESERVE",
    "PRIMARY", "PRIOR", "PRIVILEGES", "PROCEDURE", "PUBLIC", "RADIANS", "RAND", "READ", "REAL", "REFERENCES",
    "REGION", "RELATIVE", "RESTRICT", "REVOKE", "RIGHT", "ROLLBACK", "ROUND", "ROWS", "SCHEMA", "SCROLL",
    "SECOND", "SECTION", "SELECT", "SESSION", "SESSION_USER", "SET", "SIN", "SIZE", "SMALLINT", "SOME", "SPACE",
    "SQL", "SQLCODE", "SQLERROR", "SQLSTATE", "SQRT", "SUBSTRING", "SUM", "SYSTEM_USER", "TABLE", "TAN",
    "TEMPORARY", "THEN", "TIME", "TIMESTAMP", "TIMEZONE_HOUR", "TIMEZONE_MINUTE", "TO", "TOP", "TRAILING",
    "TRANSACTION", "TRANSLATE", "TRANSLATION", "TRIM", "TRUE", "TRUNCATE", "UNION", "UNIQUE", "UNKNOWN",
    "UPDATE", "UPPER", "USAGE", "USER", "USING", "VALUE", "VALUES", "VARCHAR", "VARYING", "VIEW", "WHEN",
    "WHENEVER", "WHERE", "WITH", "WORK", "WRITE", "YEAR", "ZONE",
];

/// Whether an unquoted identifier is a reserved word.
pub(crate) fn is_reserved(word: &str) -> bool {
    if word.len() > 20 {
        return false;
    }
    let mut buf = [0u8; 20];
    let upper = &mut buf[..word.len()];
    upper.copy_from_slice(word.as_bytes());
    upper.make_ascii_uppercase();
    let Ok(upper) = std::str::from_utf8(upper) else {
        return false;
    };
    RESERVED.binary_search(&upper).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_for_binary_search() {
        let mut sorted = RESERVED.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RESERVED);
    }

    #[test]
    fn lookups() {
        assert!(is_reserved("select"));
        assert!(is_reserved("Distance"));
        assert!(is_reserved("rows"));
        assert!(!is_reserved("dec"));
        assert!(!is_reserved("ra"));
        assert!(!is_reserved("source_id"));
    }
}
