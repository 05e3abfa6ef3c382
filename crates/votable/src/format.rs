//! `RESPONSEFORMAT` / `FORMAT` values (FM-01..FM-04).

use crate::{
    CsvWriter, EcsvWriter, FitsWriter, Format, GzipWriter, HtmlWriter, JsonWriter, ParquetWriter,
    ResultWriter, Serialization, TextWriter, TsvWriter, VOTableWriter,
};

/// One entry of the format table: what the server offers, and what TAPRegExt `outputFormat`
/// should list (`mime`, `alias`, `ivo-id`). [`parse_format`] accepts every alias and the media
/// type of every entry, so the capabilities and the parser cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputFormat {
    /// The writer this entry selects.
    pub format: Format,
    /// The canonical media type, also the `Content-Type` when the client used an alias.
    pub mime: &'static str,
    /// Short names, lower case (matched case-insensitively).
    pub aliases: &'static [&'static str],
    /// The TAPRegExt standard identifier, for the VOTable serialisations.
    pub ivo_id: Option<&'static str>,
}

/// The body of `votable_gzip` once its `Content-Encoding: gzip` is removed.
const VOTABLE: &str = "application/x-votable+xml";

impl OutputFormat {
    /// The `Content-Type` answered when the client named the format by an alias: `mime`,
    /// except for `votable_gzip`. Its body goes out with `Content-Encoding: gzip`, so the type
    /// must say what the decoded body is, a VOTable: pyvo and browsers decode it and must not
    /// be told it is still a gzip file. `mime` (`application/x-votable+gzip`, ESA's name)
    /// stays what the capabilities list, as a distinct RESPONSEFORMAT value for the format.
    pub fn alias_content_type(&self) -> &'static str {
        match self.format {
            Format::VOTableGzip => VOTABLE,
            _ => self.mime,
        }
    }
}

/// Every output format, default first. `votable` alone is BINARY2 (see the crate docs for why).
pub const OUTPUT_FORMATS: &[OutputFormat] = &[
    OutputFormat {
        format: Format::VOTable(Serialization::Binary2),
        mime: "application/x-votable+xml",
        aliases: &["votable", "vot"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::VOTable(Serialization::Binary2),
        mime: "application/x-votable+xml;serialization=BINARY2",
        aliases: &["votable/b2", "votable/binary2", "votableb2"],
        ivo_id: Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary2"),
    },
    OutputFormat {
        format: Format::VOTable(Serialization::TableData),
        mime: "application/x-votable+xml;serialization=TABLEDATA",
        // `votable_plain` is ESA TAP+'s name for it.
        aliases: &["votable/td", "votable/tabledata", "votabletd", "votable_plain"],
        ivo_id: Some("ivo://ivoa.net/std/TAPRegExt#output-votable-td"),
    },
    OutputFormat {
        format: Format::VOTable(Serialization::Binary),
        mime: "application/x-votable+xml;serialization=BINARY",
        aliases: &["votable/b", "votable/binary", "votableb"],
        ivo_id: Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary"),
    },
    OutputFormat {
        // ESA TAP+'s name, astroquery.gaia's default; see `alias_content_type`.
        format: Format::VOTableGzip,
        mime: "application/x-votable+gzip",
        aliases: &["votable_gzip"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Csv,
        mime: "text/csv;header=present",
        aliases: &["csv"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Tsv,
        mime: "text/tab-separated-values",
        aliases: &["tsv"],
        ivo_id: None,
    },
    OutputFormat {
        // No media type is registered for ECSV; `text/x-ecsv` is the one in use.
        format: Format::Ecsv,
        mime: "text/x-ecsv",
        aliases: &["ecsv"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Json,
        mime: "application/json",
        aliases: &["json"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Fits,
        mime: "application/fits",
        aliases: &["fits"],
        ivo_id: None,
    },
    OutputFormat {
        // VOParquet 1.0 (issue 13). `parquet` and the media type are what CADC's and Rubin's
        // TAP services accept (DefaultTableWriter's known formats); `vnd.apache.parquet` is the
        // media type's subtype alone and `voparquet` the note's name, both unambiguous.
        format: Format::Parquet,
        mime: "application/vnd.apache.parquet",
        aliases: &["parquet", "vnd.apache.parquet", "voparquet"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Html,
        mime: "text/html;charset=utf-8",
        aliases: &["html"],
        ivo_id: None,
    },
    OutputFormat {
        format: Format::Text,
        mime: "text/plain;charset=utf-8",
        aliases: &["text", "txt"],
        ivo_id: None,
    },
];

/// The requested format is not one of [`OUTPUT_FORMATS`] (FM-02: an error, never a silent
/// fallback). The message names the value and lists what is supported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl std::fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value comes from the request: keep the message short and printable.
        let shown: String = self
            .0
            .chars()
            .take(80)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        write!(f, "unsupported output format '{shown}'; supported formats: ")?;
        let names = OUTPUT_FORMATS.iter().filter_map(|entry| entry.aliases.first());
        for (i, name) in names.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        f.write_str(" (also as media types: ")?;
        for (i, entry) in OUTPUT_FORMATS.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(entry.mime)?;
        }
        f.write_str(", text/xml)")
    }
}

impl std::error::Error for UnknownFormat {}

/// A parsed `RESPONSEFORMAT`: the format, the `Content-Type` to answer with, and options taken
/// from media-type parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedFormat {
    /// The writer to use.
    pub format: Format,
    /// The client's own media type when it sent one (FM-03: `text/xml` is answered as
    /// `text/xml`, parameters kept); the canonical type for a short name.
    pub content_type: String,
    /// CSV only: `header=absent` turns the header line off.
    pub csv_header: bool,
}

impl RequestedFormat {
    /// A fresh writer for this format.
    pub fn writer(&self) -> Box<dyn ResultWriter> {
        let content_type = self.content_type.clone();
        match self.format {
            Format::VOTable(serialization) => Box::new(VOTableWriter::new(serialization, content_type)),
            Format::Csv => Box::new(CsvWriter::new(content_type, self.csv_header)),
            Format::Tsv => Box::new(TsvWriter::new(content_type)),
            Format::Text => Box::new(TextWriter::new(content_type)),
            Format::Json => Box::new(JsonWriter::new(content_type)),
            Format::Html => Box::new(HtmlWriter::new(content_type)),
            Format::Fits => Box::new(FitsWriter::new(content_type)),
            Format::Ecsv => Box::new(EcsvWriter::new(content_type)),
            Format::VOTableGzip => Box::new(GzipWriter::votable(content_type)),
            Format::Parquet => Box::new(ParquetWriter::new(content_type)),
        }
    }
}

/// Parses a `RESPONSEFORMAT`/`FORMAT` value: a short name from [`OUTPUT_FORMATS`] or a media
/// type, case-insensitively, with parameters (`serialization=` for VOTable, `header=` for CSV;
/// others are ignored but kept in the content type). The server supplies the default
/// (`votable`) when the parameter is absent.
pub fn parse_format(requested: &str) -> Result<RequestedFormat, UnknownFormat> {
    let unknown = || UnknownFormat(requested.to_owned());
    let trimmed = requested.trim();
    let lower = trimmed.to_ascii_lowercase();
    if let Some(entry) = OUTPUT_FORMATS
        .iter()
        .find(|e| e.aliases.contains(&lower.as_str()))
    {
        return Ok(RequestedFormat {
            format: entry.format,
            content_type: entry.alias_content_type().to_owned(),
            csv_header: true,
        });
    }
    let mut parts = lower.split(';');
    let essence = parts.next().unwrap_or("").trim();
    let mut serialization = None;
    let mut csv_header = true;
    for param in parts {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim().trim_matches('"');
        match key.trim() {
            "serialization" => serialization = Some(value.to_owned()),
            "header" => csv_header = value != "absent",
            _ => {}
        }
    }
    let format = match essence {
        "application/x-votable+xml" | "text/xml" => match serialization.as_deref() {
            None | Some("binary2") => Format::VOTable(Serialization::Binary2),
            Some("tabledata") => Format::VOTable(Serialization::TableData),
            Some("binary") => Format::VOTable(Serialization::Binary),
            Some(_) => return Err(unknown()),
        },
        "application/x-votable+gzip" => match serialization.as_deref() {
            None | Some("binary2") => Format::VOTableGzip,
            Some(_) => return Err(unknown()),
        },
        "text/csv" => Format::Csv,
        "text/x-ecsv" | "text/ecsv" => Format::Ecsv,
        "text/tab-separated-values" => Format::Tsv,
        "application/json" => Format::Json,
        "application/fits" | "image/fits" => Format::Fits,
        "text/html" => Format::Html,
        "text/plain" => Format::Text,
        "application/vnd.apache.parquet" => Format::Parquet,
        _ => return Err(unknown()),
    };
    // Echo the client's media type unless it could not be a header value.
    let content_type = if trimmed.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        trimmed.to_owned()
    } else {
        OUTPUT_FORMATS
            .iter()
            .find(|e| e.format == format)
            .map(|e| e.mime)
            .unwrap_or("")
            .to_owned()
    };
    Ok(RequestedFormat {
        format,
        content_type,
        csv_header,
    })
}

/// A writer for a `RESPONSEFORMAT`/`FORMAT` value; see [`parse_format`].
pub fn writer_for(requested: &str) -> Result<Box<dyn ResultWriter>, UnknownFormat> {
    parse_format(requested).map(|r| r.writer())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> (Format, String) {
        let r = parse_format(s).unwrap();
        (r.format, r.content_type)
    }

    #[test]
    fn short_names_and_media_types() {
        use Serialization::*;
        let vot = "application/x-votable+xml";
        assert_eq!(parsed("votable"), (Format::VOTable(Binary2), vot.to_owned()));
        assert_eq!(parsed(" VOTable "), (Format::VOTable(Binary2), vot.to_owned()));
        assert_eq!(parsed("votable/td").0, Format::VOTable(TableData));
        assert_eq!(parsed("votable_plain").0, Format::VOTable(TableData));
        assert_eq!(
            parsed("votable/b2").1,
            "application/x-votable+xml;serialization=BINARY2"
        );
        assert_eq!(parsed("votable/binary").0, Format::VOTable(Binary));
        assert_eq!(
            parsed("text/xml"),
            (Format::VOTable(Binary2), "text/xml".to_owned())
        );
        assert_eq!(
            parsed("Application/X-VOTable+XML; serialization=\"TableData\""),
            (
                Format::VOTable(TableData),
                "Application/X-VOTable+XML; serialization=\"TableData\"".to_owned()
            )
        );
        assert_eq!(parsed("text/xml;serialization=binary").0, Format::VOTable(Binary));
        assert_eq!(
            parsed("application/x-votable+xml;content=datalink").0,
            Format::VOTable(Binary2)
        );
        assert_eq!(parsed("csv"), (Format::Csv, "text/csv;header=present".to_owned()));
        assert_eq!(parsed("text/csv"), (Format::Csv, "text/csv".to_owned()));
        assert!(!parse_format("text/csv;header=absent").unwrap().csv_header);
        assert_eq!(parsed("TSV").0, Format::Tsv);
        assert_eq!(parsed("text/tab-separated-values").0, Format::Tsv);
        assert_eq!(parsed("json").0, Format::Json);
        assert_eq!(parsed("application/json").0, Format::Json);
        assert_eq!(parsed("html").0, Format::Html);
        assert_eq!(parsed("text/html").0, Format::Html);
        assert_eq!(parsed("text").0, Format::Text);
        assert_eq!(parsed("text/plain").0, Format::Text);
        assert_eq!(parsed("fits"), (Format::Fits, "application/fits".to_owned()));
        assert_eq!(parsed("application/fits").0, Format::Fits);
        assert_eq!(parsed("ecsv"), (Format::Ecsv, "text/x-ecsv".to_owned()));
        assert_eq!(parsed("ECSV").0, Format::Ecsv);
        assert_eq!(parsed("text/ecsv").0, Format::Ecsv);
        // The alias answers with the type of the decoded body; a named media type is echoed.
        assert_eq!(parsed("votable_gzip"), (Format::VOTableGzip, vot.to_owned()));
        assert_eq!(
            parsed("application/x-votable+gzip"),
            (Format::VOTableGzip, "application/x-votable+gzip".to_owned())
        );
        assert!(parse_format("application/x-votable+gzip;serialization=TABLEDATA").is_err());
        assert_eq!(Format::VOTableGzip.content_encoding(), Some("gzip"));
        assert_eq!(Format::Ecsv.content_encoding(), None);
        let parquet = "application/vnd.apache.parquet";
        for name in ["parquet", "PARQUET", "vnd.apache.parquet", "voparquet", parquet] {
            assert_eq!(parsed(name), (Format::Parquet, parquet.to_owned()), "{name}");
        }
        assert_eq!(Format::Parquet.content_encoding(), None);
    }

    #[test]
    fn every_listed_format_parses_to_itself() {
        for entry in OUTPUT_FORMATS {
            assert_eq!(
                parse_format(entry.mime).unwrap().format,
                entry.format,
                "{}",
                entry.mime
            );
            for alias in entry.aliases {
                assert_eq!(parse_format(alias).unwrap().format, entry.format, "{alias}");
                assert_eq!(parse_format(&alias.to_uppercase()).unwrap().format, entry.format);
            }
            let writer = writer_for(entry.mime).unwrap();
            assert_eq!(writer.format(), entry.format);
            assert_eq!(writer.content_type(), entry.mime);
        }
    }

    #[test]
    fn unknown_formats() {
        for bad in [
            "application/x-parquet",
            "",
            "application/x-votable+xml;serialization=fits",
            "text/csvx",
            "votable/xx",
        ] {
            assert_eq!(parse_format(bad).unwrap_err(), UnknownFormat(bad.to_owned()));
        }
        let message = writer_for("xml").err().unwrap().to_string();
        assert!(
            message.starts_with("unsupported output format 'xml'; supported formats: votable, votable/b2, ")
        );
        assert!(
            message.contains("csv") && message.contains("text/xml") && message.contains("application/fits")
        );
    }

    #[test]
    fn unsafe_content_type_is_not_echoed() {
        let r = parse_format("text/csv;x=\"a\r\nSet-Cookie: y\"").unwrap();
        assert_eq!(r.content_type, "text/csv;header=present");
    }
}
