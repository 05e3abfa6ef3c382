//! The sky plot as SVG: positions in right ascension and declination, drawn the way
//! astronomers read a chart (east to the left: RA increases to the left), with a grid, ticks in
//! degrees, labelled axes and a title with the count. A small field (a cone) is zoomed to the
//! data with equal angular scales on both axes (RA compressed by cos δ); a field wider than half
//! the sky gets the whole sky. Pure: positions in, a document out.

use std::fmt::Write;

/// The document's size in pixels, and the plot area's margins (left, right, top, bottom).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 480.0;
const MARGIN: (f64, f64, f64, f64) = (72.0, 20.0, 44.0, 56.0);
/// The smallest extent shown, in degrees (a single point still gets a readable field).
const MIN_EXTENT: f64 = 1.0 / 60.0;

/// How degrees map to the plot area. RA is "unwrapped" from `origin` (so that a field across
/// RA 0 is continuous): `u = (ra - origin) mod 360`, and x decreases as u increases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub origin: f64,
    pub u_lo: f64,
    pub u_hi: f64,
    pub dec_lo: f64,
    pub dec_hi: f64,
}

/// The plot area in document coordinates: left, top, width, height.
fn area() -> (f64, f64, f64, f64) {
    let (l, r, t, b) = MARGIN;
    (l, t, WIDTH - l - r, HEIGHT - t - b)
}

impl Frame {
    /// The frame that shows every point of `points` (ra, dec in degrees; already finite).
    pub fn fit(points: &[(f64, f64)]) -> Frame {
        if points.is_empty() {
            return Frame::whole_sky();
        }
        let mut ras: Vec<f64> = points.iter().map(|p| p.0.rem_euclid(360.0)).collect();
        ras.sort_by(f64::total_cmp);
        // The data lies on the circle outside its largest empty gap.
        let mut gap = 360.0 - ras[ras.len() - 1] + ras[0];
        let mut origin = ras[0];
        for w in ras.windows(2) {
            if w[1] - w[0] > gap {
                gap = w[1] - w[0];
                origin = w[1];
            }
        }
        let span = 360.0 - gap;
        let (mut dec_lo, mut dec_hi) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
        if span > 180.0 || dec_hi - dec_lo > 90.0 {
            return Frame::whole_sky();
        }
        // Padding, a smallest extent, then equal angular scales on both axes.
        let pad = |lo: f64, hi: f64| {
            let mid = (lo + hi) / 2.0;
            let half = ((hi - lo) * 1.1).max(MIN_EXTENT) / 2.0;
            (mid - half, mid + half)
        };
        let (mut u_lo, mut u_hi) = pad(0.0, span);
        (dec_lo, dec_hi) = pad(dec_lo, dec_hi);
        let cos = ((dec_lo + dec_hi) / 2.0).to_radians().cos().max(0.05);
        let (_, _, w, h) = area();
        let scale = (w / ((u_hi - u_lo) * cos)).min(h / (dec_hi - dec_lo));
        let (u_mid, dec_mid) = ((u_lo + u_hi) / 2.0, (dec_lo + dec_hi) / 2.0);
        let (u_half, dec_half) = (w / (scale * cos) / 2.0, h / scale / 2.0);
        (u_lo, u_hi) = (u_mid - u_half, u_mid + u_half);
        (dec_lo, dec_hi) = (dec_mid - dec_half, dec_mid + dec_half);
        Frame {
            origin,
            u_lo,
            u_hi,
            dec_lo: dec_lo.max(-90.0),
            dec_hi: dec_hi.min(90.0),
        }
    }

    pub fn whole_sky() -> Frame {
        Frame {
            origin: 0.0,
            u_lo: 0.0,
            u_hi: 360.0,
            dec_lo: -90.0,
            dec_hi: 90.0,
        }
    }

    fn u(&self, ra: f64) -> f64 {
        (ra - self.origin).rem_euclid(360.0)
    }

    /// Document x of a right ascension: larger RA further left.
    pub fn x(&self, ra: f64) -> f64 {
        let (l, _, w, _) = area();
        l + w * (self.u_hi - self.u(ra)) / (self.u_hi - self.u_lo)
    }

    /// Document y of a declination: north up.
    pub fn y(&self, dec: f64) -> f64 {
        let (_, t, _, h) = area();
        t + h * (self.dec_hi - dec) / (self.dec_hi - self.dec_lo)
    }

    /// x of an unwrapped RA (for ticks, which are placed in `u`).
    fn x_of_u(&self, u: f64) -> f64 {
        let (l, _, w, _) = area();
        l + w * (self.u_hi - u) / (self.u_hi - self.u_lo)
    }
}

/// A round step for about `n` ticks over `extent` degrees: 1, 2 or 5 times a power of ten.
pub fn tick_step(extent: f64, n: f64) -> f64 {
    let raw = (extent / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * mag)
}

/// Multiples of `step` within [lo, hi].
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A degree value with as many decimals as the step needs.
fn label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// The SVG document for `points` (ra, dec in degrees); `of_rows` is the number of rows read,
/// `capped` says whether there were more than were plotted.
pub fn render(points: &[(f64, f64)], capped: bool) -> String {
    let frame = Frame::fit(points);
    let (l, t, w, h) = area();
    let mut s = String::with_capacity(4096 + points.len() * 48);
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\">"
    );
    let title = match (points.len(), capped) {
        (0, _) => "No positions to plot".to_string(),
        (1, _) => "1 position".to_string(),
        (n, false) => format!("{n} positions"),
        (n, true) => format!("{n} positions (the first {n} rows only)"),
    };
    let _ = writeln!(s, "<title>{}</title>", xmltext::text(&title));
    let _ = writeln!(
        s,
        "<rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        s,
        "<text class=\"title\" x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#1b1b1b\">{}</text>",
        WIDTH / 2.0,
        xmltext::text(&title)
    );
    let _ = writeln!(
        s,
        "<rect x=\"{l}\" y=\"{t}\" width=\"{w}\" height=\"{h}\" fill=\"#f7f8fa\" stroke=\"#555555\"/>"
    );
    // RA ticks, placed in the unwrapped coordinate and labelled modulo 360.
    // The whole sky in a globe's steps (60° of RA, 30° of dec); a field in round steps.
    let whole = frame == Frame::whole_sky();
    let ra_step = if whole {
        60.0
    } else {
        tick_step(frame.u_hi - frame.u_lo, 6.0)
    };
    for u in ticks(frame.u_lo, frame.u_hi, ra_step) {
        let x = frame.x_of_u(u);
        // The left end of the whole sky is 360, not a second 0.
        let ra = match u + frame.origin {
            v if (v - 360.0).abs() < 1e-9 => 360.0,
            v => v.rem_euclid(360.0),
        };
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{x:.2}\" y1=\"{t}\" x2=\"{x:.2}\" y2=\"{}\" stroke=\"#d8dbe0\"/>\
             <text class=\"tick-ra\" x=\"{x:.2}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333333\">{}</text>",
            t + h,
            t + h + 16.0,
            label(ra, ra_step)
        );
    }
    let dec_step = if whole {
        30.0
    } else {
        tick_step(frame.dec_hi - frame.dec_lo, 6.0)
    };
    for dec in ticks(frame.dec_lo, frame.dec_hi, dec_step) {
        let y = frame.y(dec);
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{l}\" y1=\"{y:.2}\" x2=\"{}\" y2=\"{y:.2}\" stroke=\"#d8dbe0\"/>\
             <text class=\"tick-dec\" x=\"{}\" y=\"{:.2}\" text-anchor=\"end\" fill=\"#333333\">{}</text>",
            l + w,
            l - 6.0,
            y + 4.0,
            label(dec, dec_step)
        );
    }
    let _ = writeln!(
        s,
        "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#1b1b1b\">Right ascension (deg) — increases to the left</text>",
        l + w / 2.0,
        HEIGHT - 14.0
    );
    let _ = writeln!(
        s,
        "<text class=\"axis\" transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"#1b1b1b\">Declination (deg)</text>",
        t + h / 2.0
    );
    let r = if points.len() > 2000 { 1.2 } else { 2.5 };
    let _ = writeln!(s, "<g fill=\"#0b5cad\" fill-opacity=\"0.75\">");
    for &(ra, dec) in points {
        let _ = writeln!(
            s,
            "<circle class=\"pt\" cx=\"{:.2}\" cy=\"{:.2}\" r=\"{r}\"/>",
            frame.x(ra),
            frame.y(dec)
        );
    }
    s.push_str("</g>\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_increases_to_the_left_and_dec_upwards() {
        let f = Frame::fit(&[(10.0, 20.0), (11.0, 21.0)]);
        assert!(f.x(11.0) < f.x(10.0), "{f:?}");
        assert!(f.y(21.0) < f.y(20.0), "{f:?}");
    }

    #[test]
    fn the_middle_of_a_small_field_is_the_middle_of_the_plot() {
        let f = Frame::fit(&[(10.0, 20.0), (11.0, 21.0)]);
        let (l, t, w, h) = area();
        assert!((f.x(10.5) - (l + w / 2.0)).abs() < 1e-6, "{}", f.x(10.5));
        assert!((f.y(20.5) - (t + h / 2.0)).abs() < 1e-6, "{}", f.y(20.5));
        // Both points inside the area, and equal angular scales: one degree of dec is as long
        // as one degree of RA times cos(dec).
        for (ra, dec) in [(10.0, 20.0), (11.0, 21.0)] {
            assert!(f.x(ra) > l && f.x(ra) < l + w && f.y(dec) > t && f.y(dec) < t + h);
        }
        let per_dec = f.y(20.0) - f.y(21.0);
        let per_ra = f.x(10.0) - f.x(11.0);
        let cos = 20.5f64.to_radians().cos();
        assert!((per_ra - per_dec * cos).abs() < 1e-6, "{per_ra} {per_dec}");
    }

    #[test]
    fn a_field_across_ra_zero_is_continuous() {
        let f = Frame::fit(&[(359.5, 0.0), (0.5, 0.0)]);
        // 359.5 is east of... rather: west of 0.5, so further right.
        assert!(f.x(359.5) > f.x(0.5), "{f:?}");
        assert!(f.u_hi - f.u_lo < 10.0, "zoomed, not the whole sky: {f:?}");
    }

    #[test]
    fn the_whole_sky_when_the_points_are_spread() {
        let f = Frame::fit(&[(0.0, -60.0), (120.0, 0.0), (240.0, 60.0)]);
        assert_eq!(f, Frame::whole_sky());
        let (l, t, w, h) = area();
        assert!((f.x(0.0) - (l + w)).abs() < 1e-9);
        assert!((f.x(180.0) - (l + w / 2.0)).abs() < 1e-9);
        assert!((f.y(90.0) - t).abs() < 1e-9 && (f.y(-90.0) - (t + h)).abs() < 1e-9);
    }

    #[test]
    fn round_ticks() {
        assert_eq!(tick_step(360.0, 6.0), 100.0);
        assert_eq!(tick_step(1.1, 6.0), 0.2);
        assert_eq!(tick_step(0.05, 6.0), 0.01);
        assert_eq!(label(0.2, 0.2), "0.2");
        assert_eq!(label(120.0, 20.0), "120");
        assert_eq!(label(-0.0, 0.5), "0.0");
    }

    #[test]
    fn the_document_has_a_circle_per_point_labels_and_a_title() {
        let pts: Vec<(f64, f64)> = (0..7).map(|i| (45.0 + f64::from(i) * 0.01, 10.0)).collect();
        let svg = render(&pts, false);
        assert_eq!(svg.matches("class=\"pt\"").count(), 7);
        assert!(svg.contains("Right ascension (deg)"));
        assert!(svg.contains("Declination (deg)"));
        assert!(svg.contains(">7 positions</text>"));
        assert!(svg.contains("class=\"tick-ra\""));
        let sky = render(&[(10.0, 10.0), (130.0, -40.0), (250.0, 0.0)], false);
        assert!(
            sky.contains(">360</text>") && sky.contains(">0</text>") && sky.contains(">180</text>"),
            "{sky}"
        );
        let empty = render(&[], false);
        assert!(empty.contains("No positions to plot") && !empty.contains("class=\"pt\""));
    }
}
