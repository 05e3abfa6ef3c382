//! VOUnit conversions for ADQL `IN_UNIT(value, 'unit')`.
//!
//! ADQL 2.1 lets a query ask for a column in another unit; the translator needs one
//! number, the factor between the column's unit (from TAP_SCHEMA) and the requested one,
//! and must refuse requests that make no physical sense. Units are written in the IVOA
//! VOUnits 1.0 syntax, so this module parses that syntax into a scale relative to SI and a
//! vector of dimension exponents, and compares the two sides.
//!
//! Beyond SI, the vector has an angle dimension (so `deg` converts to `rad` but not to
//! `m`, which SI's dimensionless radian would allow) and one dimension each for
//! magnitudes, counts, photons, pixels and information, which only convert among
//! themselves.

use std::f64::consts::PI;

/// Why a unit conversion was refused.
///
/// The message is shown to the TAP user: it quotes the unit strings involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(pub String);

/// The factor f such that value_in_to = value_in_from * f.
///
/// Fails when either string is empty or is not a VOUnit we know, and when the two units
/// measure different things (`deg` and `km`), since IN_UNIT must not silently produce a
/// number in a unit the column cannot be expressed in.
pub fn conversion_factor(from: &str, to: &str) -> Result<f64, UnitError> {
    if from.trim().is_empty() || to.trim().is_empty() {
        return Err(UnitError(format!(
            "cannot convert '{from}' to '{to}': the unit string is empty"
        )));
    }
    let source = parse_unit(from)?;
    let target = parse_unit(to)?;
    if !source.same_dimensions(&target) {
        return Err(UnitError(format!(
            "cannot convert '{from}' to '{to}': dimensions differ ({} vs {})",
            source.describe_dimensions(),
            target.describe_dimensions()
        )));
    }
    let factor = source.scale / target.scale;
    if factor.is_finite() && factor > 0.0 {
        Ok(factor)
    } else {
        Err(UnitError(format!(
            "cannot convert '{from}' to '{to}': the conversion factor is out of range"
        )))
    }
}

/// Number of dimensions tracked: the seven SI base quantities plus our extras.
const DIMS: usize = 13;

// Positions in the dimension vector.
const LEN: usize = 0;
const MASS: usize = 1;
const TIME: usize = 2;
const CURRENT: usize = 3;
const TEMP: usize = 4;
const AMOUNT: usize = 5;
const LUM: usize = 6;
const ANGLE: usize = 7;
const MAG: usize = 8;
const COUNT: usize = 9;
const PHOTON: usize = 10;
const PIXEL: usize = 11;
const INFO: usize = 12;

/// How messages name each dimension: the unit its scale is relative to.
const DIM_SYMBOLS: [&str; DIMS] = [
    "m", "kg", "s", "A", "K", "mol", "cd", "rad", "mag", "ct", "ph", "pix", "bit",
];

/// Exponents can be fractional (`m**(1/2)`), so they are compared with this tolerance.
const EXPONENT_TOLERANCE: f64 = 1e-9;

/// Parentheses deeper than this are refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// A parsed unit: how many SI (or extra-dimension) base units it is worth, and its
/// dimension exponents.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quantity {
    scale: f64,
    dims: [f64; DIMS],
}

impl Quantity {
    const ONE: Quantity = Quantity {
        scale: 1.0,
        dims: [0.0; DIMS],
    };

    fn times(self, other: Quantity) -> Quantity {
        let mut dims = self.dims;
        for (d, o) in dims.iter_mut().zip(other.dims) {
            *d += o;
        }
        Quantity {
            scale: self.scale * other.scale,
            dims,
        }
    }

    fn pow(self, exponent: f64) -> Quantity {
        Quantity {
            scale: self.scale.powf(exponent),
            dims: self.dims.map(|d| d * exponent),
        }
    }

    fn same_dimensions(&self, other: &Quantity) -> bool {
        self.dims
            .iter()
            .zip(other.dims)
            .all(|(a, b)| (a - b).abs() < EXPONENT_TOLERANCE)
    }

    /// The dimensions as a VOUnit string over the base units, for error messages.
    fn describe_dimensions(&self) -> String {
        let parts: Vec<String> = DIM_SYMBOLS
            .iter()
            .zip(self.dims)
            .filter(|(_, e)| e.abs() >= EXPONENT_TOLERANCE)
            .map(|(symbol, e)| {
                if (e - 1.0).abs() < EXPONENT_TOLERANCE {
                    (*symbol).to_string()
                } else if (e - e.round()).abs() < EXPONENT_TOLERANCE {
                    format!("{symbol}**{}", e.round())
                } else {
                    format!("{symbol}**({e})")
                }
            })
            .collect();
        if parts.is_empty() {
            "dimensionless".to_string()
        } else {
            parts.join(".")
        }
    }
}

/// Which prefixes a unit accepts. VOUnits forbids some (`min`, `AU`, `mas`...) and
/// restricts years to multiples; binary prefixes only make sense on bits and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefixes {
    None,
    Si,
    Multiples,
    SiAndBinary,
}

/// One known unit symbol.
struct UnitDef {
    symbol: &'static str,
    scale: f64,
    dims: [i8; DIMS],
    prefixes: Prefixes,
}

/// Builds a dimension vector from (position, exponent) pairs, to keep the table readable.
const fn dims(pairs: &[(usize, i8)]) -> [i8; DIMS] {
    let mut out = [0i8; DIMS];
    let mut i = 0;
    while i < pairs.len() {
        out[pairs[i].0] += pairs[i].1;
        i += 1;
    }
    out
}

const fn unit(symbol: &'static str, scale: f64, dims: [i8; DIMS], prefixes: Prefixes) -> UnitDef {
    UnitDef {
        symbol,
        scale,
        dims,
        prefixes,
    }
}

const D_NONE: [i8; DIMS] = [0; DIMS];
const D_LEN: [i8; DIMS] = dims(&[(LEN, 1)]);
const D_AREA: [i8; DIMS] = dims(&[(LEN, 2)]);
const D_MASS: [i8; DIMS] = dims(&[(MASS, 1)]);
const D_TIME: [i8; DIMS] = dims(&[(TIME, 1)]);
const D_ANGLE: [i8; DIMS] = dims(&[(ANGLE, 1)]);
const D_ENERGY: [i8; DIMS] = dims(&[(MASS, 1), (LEN, 2), (TIME, -2)]);
const D_POWER: [i8; DIMS] = dims(&[(MASS, 1), (LEN, 2), (TIME, -3)]);
const D_FLUX_DENSITY: [i8; DIMS] = dims(&[(MASS, 1), (TIME, -2)]);
const D_TESLA: [i8; DIMS] = dims(&[(MASS, 1), (TIME, -2), (CURRENT, -1)]);

/// Seconds in a Julian year (365.25 days), the astronomical year of VOUnits.
const JULIAN_YEAR: f64 = 365.25 * 86_400.0;
/// One arcsecond in radians.
const ARCSEC: f64 = PI / 648_000.0;

/// The known units, with their values in SI (kg for mass, rad for angles).
const UNITS: &[UnitDef] = &[
    // SI base units (the gram carries the prefixes, as in SI itself).
    unit("m", 1.0, D_LEN, Prefixes::Si),
    unit("g", 1e-3, D_MASS, Prefixes::Si),
    unit("s", 1.0, D_TIME, Prefixes::Si),
    unit("A", 1.0, dims(&[(CURRENT, 1)]), Prefixes::Si),
    unit("K", 1.0, dims(&[(TEMP, 1)]), Prefixes::Si),
    unit("mol", 1.0, dims(&[(AMOUNT, 1)]), Prefixes::Si),
    unit("cd", 1.0, dims(&[(LUM, 1)]), Prefixes::Si),
    // SI derived units.
    unit("rad", 1.0, D_ANGLE, Prefixes::Si),
    unit("sr", 1.0, dims(&[(ANGLE, 2)]), Prefixes::Si),
    unit("Hz", 1.0, dims(&[(TIME, -1)]), Prefixes::Si),
    unit("Bq", 1.0, dims(&[(TIME, -1)]), Prefixes::Si),
    unit("N", 1.0, dims(&[(MASS, 1), (LEN, 1), (TIME, -2)]), Prefixes::Si),
    unit("J", 1.0, D_ENERGY, Prefixes::Si),
    unit("W", 1.0, D_POWER, Prefixes::Si),
    unit("Pa", 1.0, dims(&[(MASS, 1), (LEN, -1), (TIME, -2)]), Prefixes::Si),
    unit("C", 1.0, dims(&[(CURRENT, 1), (TIME, 1)]), Prefixes::Si),
    unit(
        "V",
        1.0,
        dims(&[(MASS, 1), (LEN, 2), (TIME, -3), (CURRENT, -1)]),
        Prefixes::Si,
    ),
    unit(
        "Ohm",
        1.0,
        dims(&[(MASS, 1), (LEN, 2), (TIME, -3), (CURRENT, -2)]),
        Prefixes::Si,
    ),
    unit(
        "S",
        1.0,
        dims(&[(MASS, -1), (LEN, -2), (TIME, 3), (CURRENT, 2)]),
        Prefixes::Si,
    ),
    unit(
        "F",
        1.0,
        dims(&[(MASS, -1), (LEN, -2), (TIME, 4), (CURRENT, 2)]),
        Prefixes::Si,
    ),
    unit(
        "Wb",
        1.0,
        dims(&[(MASS, 1), (LEN, 2), (TIME, -2), (CURRENT, -1)]),
        Prefixes::Si,
    ),
    unit("T", 1.0, D_TESLA, Prefixes::Si),
    unit("G", 1e-4, D_TESLA, Prefixes::Si),
    unit(
        "H",
        1.0,
        dims(&[(MASS, 1), (LEN, 2), (TIME, -2), (CURRENT, -2)]),
        Prefixes::Si,
    ),
    unit("lm", 1.0, dims(&[(LUM, 1), (ANGLE, 2)]), Prefixes::Si),
    unit("lx", 1.0, dims(&[(LUM, 1), (ANGLE, 2), (LEN, -2)]), Prefixes::Si),
    // Angles.
    unit("deg", PI / 180.0, D_ANGLE, Prefixes::Si),
    unit("arcmin", PI / 10_800.0, D_ANGLE, Prefixes::Si),
    unit("arcsec", ARCSEC, D_ANGLE, Prefixes::Si),
    unit("mas", ARCSEC * 1e-3, D_ANGLE, Prefixes::None),
    unit("uas", ARCSEC * 1e-6, D_ANGLE, Prefixes::None),
    // Time.
    unit("min", 60.0, D_TIME, Prefixes::None),
    unit("h", 3_600.0, D_TIME, Prefixes::None),
    unit("d", 86_400.0, D_TIME, Prefixes::None),
    unit("a", JULIAN_YEAR, D_TIME, Prefixes::Multiples),
    unit("yr", JULIAN_YEAR, D_TIME, Prefixes::Multiples),
    // Astronomical lengths, masses, luminosities.
    unit("AU", 1.495_978_707e11, D_LEN, Prefixes::None),
    unit("au", 1.495_978_707e11, D_LEN, Prefixes::None),
    unit("pc", 3.085_677_581_491_367e16, D_LEN, Prefixes::Si),
    unit("lyr", 9.460_730_472_580_8e15, D_LEN, Prefixes::None),
    unit("Angstrom", 1e-10, D_LEN, Prefixes::None),
    unit("angstrom", 1e-10, D_LEN, Prefixes::None),
    unit("solRad", 6.957e8, D_LEN, Prefixes::None),
    unit("solMass", 1.988_47e30, D_MASS, Prefixes::None),
    unit("earthMass", 5.9722e24, D_MASS, Prefixes::None),
    unit("jupiterMass", 1.898_13e27, D_MASS, Prefixes::None),
    unit("solLum", 3.828e26, D_POWER, Prefixes::None),
    // Energy, flux density, cross-section.
    unit("eV", 1.602_176_634e-19, D_ENERGY, Prefixes::Si),
    unit("erg", 1e-7, D_ENERGY, Prefixes::None),
    unit("Jy", 1e-26, D_FLUX_DENSITY, Prefixes::Si),
    unit("barn", 1e-28, D_AREA, Prefixes::Si),
    // Units that only convert among themselves.
    unit("mag", 1.0, dims(&[(MAG, 1)]), Prefixes::Si),
    unit("ct", 1.0, dims(&[(COUNT, 1)]), Prefixes::None),
    unit("count", 1.0, dims(&[(COUNT, 1)]), Prefixes::None),
    unit("ph", 1.0, dims(&[(PHOTON, 1)]), Prefixes::None),
    unit("photon", 1.0, dims(&[(PHOTON, 1)]), Prefixes::None),
    unit("pix", 1.0, dims(&[(PIXEL, 1)]), Prefixes::None),
    unit("pixel", 1.0, dims(&[(PIXEL, 1)]), Prefixes::None),
    unit("bit", 1.0, dims(&[(INFO, 1)]), Prefixes::SiAndBinary),
    unit("byte", 8.0, dims(&[(INFO, 1)]), Prefixes::SiAndBinary),
    // Pure numbers.
    unit("%", 0.01, D_NONE, Prefixes::None),
];

/// SI prefixes and their powers of ten. `da` comes before `d` so the longer one is
/// tried first.
const SI_PREFIXES: [(&str, i32); 20] = [
    ("da", 1),
    ("y", -24),
    ("z", -21),
    ("a", -18),
    ("f", -15),
    ("p", -12),
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("c", -2),
    ("d", -1),
    ("h", 2),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
    ("Z", 21),
    ("Y", 24),
];

/// The multiples VOUnits allows on years.
const YEAR_PREFIXES: [&str; 3] = ["k", "M", "G"];

/// IEC binary prefixes and their powers of two, for bits and bytes.
const BINARY_PREFIXES: [(&str, i32); 8] = [
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
    ("Zi", 70),
    ("Yi", 80),
];

fn exact(symbol: &str) -> Option<&'static UnitDef> {
    UNITS.iter().find(|u| u.symbol == symbol)
}

fn quantity_of(def: &UnitDef, factor: f64) -> Quantity {
    Quantity {
        scale: def.scale * factor,
        dims: def.dims.map(f64::from),
    }
}

/// Looks a symbol up, exact matches first: `min`, `mas`, `Pa`, `cd`, `h`, `pc`, `ct` are
/// units in their own right, not prefixed ones.
///
/// On failure, returns the name of a unit that exists but refuses the prefix, so the
/// message can say so.
fn lookup(symbol: &str) -> Result<Quantity, Option<(&str, &'static str)>> {
    if let Some(def) = exact(symbol) {
        return Ok(quantity_of(def, 1.0));
    }
    let mut refused = None;
    for (prefix, power) in SI_PREFIXES {
        let Some(def) = symbol.strip_prefix(prefix).and_then(exact) else {
            continue;
        };
        let allowed = match def.prefixes {
            Prefixes::None => false,
            Prefixes::Si | Prefixes::SiAndBinary => true,
            Prefixes::Multiples => YEAR_PREFIXES.contains(&prefix),
        };
        if allowed {
            return Ok(quantity_of(def, 10f64.powi(power)));
        }
        refused = Some((prefix, def.symbol));
    }
    for (prefix, power) in BINARY_PREFIXES {
        let Some(def) = symbol.strip_prefix(prefix).and_then(exact) else {
            continue;
        };
        if def.prefixes == Prefixes::SiAndBinary {
            return Ok(quantity_of(def, 2f64.powi(power)));
        }
        refused = Some((prefix, def.symbol));
    }
    Err(refused)
}

/// Parses a whole unit string.
fn parse_unit(text: &str) -> Result<Quantity, UnitError> {
    let trimmed = text.trim();
    let mut parser = Parser {
        text: trimmed,
        bytes: trimmed.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let scale = parser.scale_factor()?;
    let quantity = parser.expression()?;
    if parser.pos < parser.bytes.len() {
        return Err(parser.unexpected());
    }
    Ok(Quantity {
        scale: quantity.scale * scale,
        dims: quantity.dims,
    })
}

/// A recursive-descent parser over the VOUnit grammar, made lenient in ways that cannot
/// be ambiguous: FITS-style integer powers (`m2`, `s-1`, `m^2`), several divisions
/// (`erg/s/cm**2`, read left to right), powers on parenthesised groups.
///
/// It only ever steps over ASCII bytes, so every slice it takes is on a char boundary.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let found = self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(s.as_bytes()));
        if found {
            self.pos += s.len();
        }
        found
    }

    fn error(&self, what: &str) -> UnitError {
        UnitError(format!("{what} in '{}'", self.text))
    }

    /// The error for whatever sits at the current position.
    fn unexpected(&self) -> UnitError {
        let rest = self.text.get(self.pos..).unwrap_or("");
        match rest.chars().next() {
            None => self.error("unit expected at the end"),
            Some(c) if c.is_whitespace() => {
                self.error("whitespace is not allowed inside a VOUnit (use '.' to multiply units)")
            }
            Some(c) => self.error(&format!("unexpected '{c}'")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// The text from `start` to the current position, as a number.
    fn number_from(&self, start: usize) -> Result<f64, UnitError> {
        self.text
            .get(start..self.pos)
            .and_then(|s| s.parse::<f64>().ok())
            .ok_or_else(|| self.error("malformed number"))
    }

    /// An optional leading numeric factor: `10**n`, `10^n` or a decimal such as `1e-3`
    /// or `1.5`, followed by the unit directly or after a `.`.
    fn scale_factor(&mut self) -> Result<f64, UnitError> {
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Ok(1.0);
        }
        let start = self.pos;
        let value = if self.eat_str("10**") || self.eat_str("10^") {
            10f64.powf(self.power_value()?)
        } else {
            self.digits();
            // A '.' followed by a digit is a decimal point; otherwise it multiplies.
            if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
                self.digits();
            }
            // Only an exponent if digits follow, so `1eV` stays one electronvolt.
            if matches!(self.peek(), Some(b'e' | b'E')) {
                let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
                if self.peek_at(1 + sign).is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1 + sign;
                    self.digits();
                }
            }
            self.number_from(start)?
        };
        if !(value.is_finite() && value > 0.0) {
            return Err(self.error("the scale factor must be a positive finite number"));
        }
        self.eat(b'.');
        if self.pos >= self.bytes.len() {
            return Err(self.error("a scale factor must be followed by a unit"));
        }
        Ok(value)
    }

    /// Factors joined by `.` (multiply) or `/` (divide), left to right; a leading `/`
    /// means an inverse (`/s`).
    fn expression(&mut self) -> Result<Quantity, UnitError> {
        let mut result = Quantity::ONE;
        let mut divide = self.eat(b'/');
        loop {
            let factor = self.factor()?;
            result = result.times(if divide { factor.pow(-1.0) } else { factor });
            if self.eat(b'.') {
                divide = false;
            } else if self.eat(b'/') {
                divide = true;
            } else {
                return Ok(result);
            }
        }
    }

    /// A unit symbol or a parenthesised expression, with an optional power.
    fn factor(&mut self) -> Result<Quantity, UnitError> {
        let base = match self.peek() {
            Some(b'(') => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.error("parentheses nested too deeply"));
                }
                self.pos += 1;
                self.depth += 1;
                let inner = self.expression()?;
                self.depth -= 1;
                if !self.eat(b')') {
                    return Err(match self.peek() {
                        None => self.error("missing ')'"),
                        Some(_) => self.unexpected(),
                    });
                }
                inner
            }
            Some(b) if b.is_ascii_alphabetic() || b == b'%' => self.symbol()?,
            _ => return Err(self.unexpected()),
        };
        Ok(match self.power()? {
            Some(exponent) => base.pow(exponent),
            None => base,
        })
    }

    fn symbol(&mut self) -> Result<Quantity, UnitError> {
        let start = self.pos;
        if !self.eat(b'%') {
            while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
                self.pos += 1;
            }
        }
        let symbol = self.text.get(start..self.pos).unwrap_or("");
        if self.peek() == Some(b'(') {
            return Err(self.error(&format!(
                "functions of units such as '{symbol}(...)' are not supported"
            )));
        }
        lookup(symbol).map_err(|refused| match refused {
            Some((prefix, base)) => self.error(&format!(
                "unknown unit '{symbol}' (prefix '{prefix}' is not allowed on '{base}')"
            )),
            None => self.error(&format!("unknown unit '{symbol}'")),
        })
    }

    /// An optional power: `**n`, `**(n)`, `**(x.y)`, `**(p/q)`, or the FITS forms `^n`
    /// and a bare signed integer right after the symbol (`m2`, `s-1`).
    fn power(&mut self) -> Result<Option<f64>, UnitError> {
        if self.eat_str("**") || self.eat(b'^') {
            return self.power_value().map(Some);
        }
        let signed = matches!(self.peek(), Some(b'+' | b'-'));
        if self
            .peek_at(usize::from(signed))
            .is_some_and(|b| b.is_ascii_digit())
        {
            return self.signed_integer().map(Some);
        }
        Ok(None)
    }

    /// What follows `**`: a signed integer, or a parenthesised decimal or fraction.
    /// Without parentheses only integers are read, since `m**2.s` means m² times s.
    fn power_value(&mut self) -> Result<f64, UnitError> {
        let value = if self.eat(b'(') {
            let mut value = self.signed_decimal()?;
            if self.eat(b'/') {
                let denominator = self.signed_decimal()?;
                if denominator == 0.0 {
                    return Err(self.error("zero denominator in a power"));
                }
                value /= denominator;
            }
            if !self.eat(b')') {
                return Err(self.error("missing ')' after a power"));
            }
            value
        } else {
            self.signed_integer()?
        };
        // Hundreds of digits parse to infinity, which would poison the exponent vector.
        if value.is_finite() {
            Ok(value)
        } else {
            Err(self.error("power out of range"))
        }
    }

    fn signed_integer(&mut self) -> Result<f64, UnitError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        if self.digits() == 0 {
            return Err(self.error("power expected"));
        }
        self.number_from(start)
    }

    fn signed_decimal(&mut self) -> Result<f64, UnitError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        let mut digits = self.digits();
        if self.eat(b'.') {
            digits += self.digits();
        }
        if digits == 0 {
            return Err(self.error("power expected"));
        }
        self.number_from(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factor(from: &str, to: &str) -> f64 {
        match conversion_factor(from, to) {
            Ok(f) => f,
            Err(e) => panic!("{from:?} -> {to:?} failed: {e}"),
        }
    }

    fn assert_close(actual: f64, expected: f64) {
        let tolerance = 1e-12 * expected.abs().max(actual.abs());
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} differs from {expected}"
        );
    }

    fn assert_factor(from: &str, to: &str, expected: f64) {
        assert_close(factor(from, to), expected);
    }

    fn err(from: &str, to: &str) -> String {
        match conversion_factor(from, to) {
            Ok(f) => panic!("{from:?} -> {to:?} gave {f}"),
            Err(UnitError(message)) => message,
        }
    }

    fn assert_contains(message: &str, parts: &[&str]) {
        for part in parts {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
    }

    #[test]
    fn angles() {
        assert_factor("deg", "rad", PI / 180.0);
        assert_factor("rad", "deg", 180.0 / PI);
        assert_factor("arcsec", "deg", 1.0 / 3_600.0);
        assert_factor("arcmin", "arcsec", 60.0);
        assert_factor("mas", "deg", 1.0 / 3_600_000.0);
        assert_factor("uas", "mas", 1e-3);
        assert_factor("marcsec", "mas", 1.0);
        assert_factor("deg**2", "sr", (PI / 180.0).powi(2));
        assert_factor("mas/yr", "arcsec/a", 1e-3);
    }

    #[test]
    fn speeds() {
        assert_factor("km/s", "m/s", 1_000.0);
        assert_factor("m.s**-1", "km/h", 3.6);
        assert_factor("km.s**(-1)", "m/s", 1_000.0);
        assert_factor("km/s", "m.s-1", 1_000.0);
        assert_factor("km.s^-1", "m/s", 1_000.0);
    }

    #[test]
    fn astronomical_lengths_and_times() {
        assert_factor("pc", "m", 3.085_677_581_491_367e16);
        assert_factor("kpc", "pc", 1_000.0);
        assert_factor("Mpc", "kpc", 1_000.0);
        assert_factor("yr", "s", 31_557_600.0);
        assert_factor("a", "d", 365.25);
        assert_factor("Myr", "yr", 1e6);
        assert_factor("Ga", "yr", 1e9);
        assert_factor("Angstrom", "nm", 0.1);
        assert_factor("AU", "au", 1.0);
        assert_factor("AU", "km", 1.495_978_707e8);
        assert_factor("lyr", "m", 9.460_730_472_580_8e15);
        assert_factor("solRad", "km", 6.957e5);
        assert_factor("solMass", "kg", 1.988_47e30);
        assert_factor("solLum", "erg/s", 3.828e33);
        assert_factor("min", "s", 60.0);
        assert_factor("h", "min", 60.0);
        assert_factor("d", "h", 24.0);
    }

    #[test]
    fn spectral_units() {
        assert_factor("Jy", "W.m**-2.Hz**-1", 1e-26);
        assert_factor("mJy", "Jy", 1e-3);
        assert_factor("erg.s**-1.cm**-2.Hz**-1", "Jy", 1e23);
        assert_factor("erg/s/cm**2/Hz", "Jy", 1e23);
        assert_factor("keV", "eV", 1e3);
        assert_factor("eV", "J", 1.602_176_634e-19);
        assert_factor("erg", "J", 1e-7);
        assert_factor("GHz", "MHz", 1e3);
        assert_factor("barn", "m**2", 1e-28);
        assert_factor("G", "T", 1e-4);
    }

    #[test]
    fn self_only_units() {
        assert_factor("mag", "mag", 1.0);
        assert_factor("mmag", "mag", 1e-3);
        assert_factor("mag.arcsec**-2", "mag/arcsec**2", 1.0);
        assert_factor("ct/s", "ct/ks", 1e3);
        assert_factor("ph", "photon", 1.0);
        assert_factor("pix", "pixel", 1.0);
        assert_factor("kbyte", "byte", 1e3);
        assert_factor("Kibyte", "byte", 1024.0);
        assert_factor("byte", "bit", 8.0);
        assert_factor("%", "%", 1.0);
        assert_contains(&err("mag", "%"), &["cannot convert 'mag' to '%'"]);
        assert_contains(&err("ct", "ph"), &["cannot convert 'ct' to 'ph'"]);
        assert_contains(&err("pix", "deg"), &["cannot convert 'pix' to 'deg'"]);
        assert_contains(&err("bit", "m"), &["cannot convert"]);
    }

    #[test]
    fn powers_and_groups() {
        assert_factor("km**2", "m**2", 1e6);
        assert_factor("m**(-2)", "cm**-2", 1e-4);
        assert_factor("m**(1/2)", "cm**(1/2)", 10.0);
        assert_factor("m**(0.5)", "cm**(1/2)", 10.0);
        assert_factor("m2", "m**2", 1.0);
        assert_factor("(km/s)**2", "m**2.s**-2", 1e6);
        assert_factor("/s", "Hz", 1.0);
        assert_factor("J/(kg.K)", "erg.g**-1.K**-1", 1e4);
        assert_contains(&err("m**(1/2)", "m"), &["cannot convert", "m**(0.5) vs m"]);
    }

    #[test]
    fn scale_factors() {
        assert_factor("10**-3.m", "mm", 1.0);
        assert_factor("10**3m", "km", 1.0);
        assert_factor("10**(3)m", "km", 1.0);
        assert_factor("1e-3.m", "mm", 1.0);
        assert_factor("1E3m", "km", 1.0);
        assert_factor("1.5.km", "m", 1_500.0);
        assert_factor("1eV", "eV", 1.0);
        assert_factor("100.%", "%", 100.0);
        assert_contains(&err("0.m", "m"), &["positive"]);
        assert_contains(&err("10**3", "m"), &["followed by a unit"]);
    }

    #[test]
    fn exact_symbols_win_over_prefixes() {
        assert_factor("min", "s", 60.0);
        assert_factor("mas", "arcsec", 1e-3);
        assert_factor("Pa", "hPa", 1e-2);
        assert_factor("cd", "mcd", 1e3);
        assert_factor("h", "s", 3_600.0);
        assert_factor("pc", "m", 3.085_677_581_491_367e16);
        assert_factor("ct", "count", 1.0);
        assert_factor("dam", "m", 10.0);
        assert_factor("dm", "m", 0.1);
        assert_factor("kg", "g", 1e3);
        assert_factor("am", "fm", 1e-3);
    }

    #[test]
    fn symbols_are_case_sensitive() {
        assert_factor("Mm", "mm", 1e9);
        assert_factor("MHz", "mHz", 1e9);
        assert_contains(&err("M", "m"), &["unknown unit 'M' in 'M'"]);
        assert_contains(&err("DEG", "deg"), &["unknown unit 'DEG'"]);
    }

    #[test]
    fn rejects_different_dimensions() {
        assert_eq!(
            err("deg", "km"),
            "cannot convert 'deg' to 'km': dimensions differ (rad vs m)"
        );
        assert_contains(&err("rad", "m"), &["cannot convert 'rad' to 'm'"]);
        assert_contains(&err("km/s", "km"), &["m.s**-1 vs m"]);
        assert_contains(&err("%", "deg"), &["dimensionless vs rad"]);
    }

    #[test]
    fn rejects_unknown_units() {
        assert_eq!(err("furlong/s", "m/s"), "unknown unit 'furlong' in 'furlong/s'");
        assert_eq!(err("m", "parsec"), "unknown unit 'parsec' in 'parsec'");
        assert_contains(
            &err("myr", "s"),
            &["unknown unit 'myr'", "prefix 'm' is not allowed on 'yr'"],
        );
        assert_contains(&err("kmin", "s"), &["prefix 'k' is not allowed on 'min'"]);
        assert_contains(&err("log(Hz)", "Hz"), &["functions", "'log(...)'"]);
    }

    #[test]
    fn rejects_empty() {
        assert_contains(&err("", "m"), &["cannot convert '' to 'm'", "empty"]);
        assert_contains(&err("deg", "  "), &["empty"]);
    }

    #[test]
    fn rejects_malformed_strings() {
        assert_contains(&err("km s-1", "m/s"), &["whitespace", "'km s-1'"]);
        assert_contains(&err("m.", "m"), &["unit expected at the end", "'m.'"]);
        assert_contains(&err("m/", "m"), &["unit expected"]);
        assert_contains(&err("(m", "m"), &["missing ')'"]);
        assert_contains(&err("m)", "m"), &["unexpected ')'"]);
        assert_contains(&err("m**", "m"), &["power expected"]);
        assert_contains(&err("m**(1/0)", "m"), &["zero denominator"]);
        assert_contains(&err("m**(1", "m"), &["missing ')'"]);
        assert_contains(&err("m..s", "m"), &["unexpected '.'"]);
        assert_contains(&err("°", "deg"), &["unexpected '°'"]);
        assert_contains(&err("'furlong'", "m"), &["unexpected '''"]);
        let deep = format!("{}m{}", "(".repeat(100), ")".repeat(100));
        assert_contains(&err(&deep, "m"), &["nested too deeply"]);
        assert_contains(&err("km**400", "m**400"), &["out of range"]);
        let huge = format!("m**{}", "9".repeat(400));
        assert_contains(&err(&huge, "m"), &["power out of range"]);
    }
}
