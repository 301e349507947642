//! The report's charts, drawn on the server as SVG text, so the browser gets a
//! picture and no chart code (the first-load budget holds). Each is an image with a
//! label; the page puts the same numbers in a table next to it. Colours come from
//! the stylesheet's classes, so the charts follow light and dark mode.
//!
//! Every text in the SVG is escaped; the numbers are ours.

use std::fmt::Write;

use super::Daily;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 12.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn open(label: &str, height: f64) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        escape(label),
        escape(label)
    )
}

/// A round upper bound for an axis.
fn ceiling(max: f64) -> f64 {
    if max <= 1.0 {
        return 1.0;
    }
    let step = 10f64.powf(max.log10().floor());
    (max / step).ceil() * step
}

/// Every n-th label, so at most about 12 show.
fn label_every(n: usize) -> usize {
    n.div_ceil(12).max(1)
}

/// `MM-DD` of a `YYYY-MM-DD`.
fn short(day: &str) -> &str {
    day.get(5..).unwrap_or(day)
}

fn axis(out: &mut String, top: f64, unit: &str) {
    let base = HEIGHT - BOTTOM;
    let shown = if top.fract() == 0.0 {
        format!("{top:.0}{unit}")
    } else {
        format!("{top:.1}{unit}")
    };
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/><text class="tick" x="{x}" y="{y}" text-anchor="end">{}</text><text class="tick" x="{x}" y="{base}" text-anchor="end">0</text>"#,
        escape(&shown),
        x = LEFT - 6.0,
        y = TOP + 8.0,
    );
}

/// Conversations per day, as bars.
pub fn volume(days: &[Daily]) -> String {
    let mut out = open("Conversations per day", HEIGHT);
    let top = ceiling(days.iter().map(|d| d.created).max().unwrap_or(0) as f64);
    axis(&mut out, top, "");
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let every = label_every(days.len());
    for (i, d) in days.iter().enumerate() {
        let h = (HEIGHT - BOTTOM - TOP) * d.created as f64 / top;
        let x = LEFT + slot * i as f64;
        let _ = write!(
            out,
            r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            x + slot * 0.15,
            HEIGHT - BOTTOM - h,
            slot * 0.7,
            h,
            escape(&d.day),
            d.created
        );
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + slot / 2.0,
                HEIGHT - 8.0,
                escape(short(&d.day))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Median wait and first response per day, as two lines, in seconds, minutes or
/// hours, whichever reads best.
pub fn trend(days: &[Daily]) -> String {
    let mut out = open("Median wait and first response per day", HEIGHT);
    let max_s = days
        .iter()
        .flat_map(|d| [d.wait_median_s, d.first_response_median_s])
        .flatten()
        .fold(0.0, f64::max);
    let (per, unit) = match max_s {
        s if s < 120.0 => (1.0, " s"),
        s if s < 7200.0 => (60.0, " min"),
        _ => (3600.0, " h"),
    };
    let minutes = |s: Option<f64>| s.map(|s| s / per);
    let top = ceiling(max_s / per).max(1.0);
    axis(&mut out, top, unit);
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    for (class, pick) in [
        (
            "line-wait",
            (|d: &Daily| d.wait_median_s) as fn(&Daily) -> Option<f64>,
        ),
        ("line-first", |d: &Daily| d.first_response_median_s),
    ] {
        let points: Vec<String> = days
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let v = minutes(pick(d))?;
                let x = LEFT + slot * (i as f64 + 0.5);
                let y = HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * v / top;
                Some(format!("{x:.1},{y:.1}"))
            })
            .collect();
        if !points.is_empty() {
            let _ = write!(
                out,
                r#"<polyline class="{class}" fill="none" points="{}"/>"#,
                points.join(" ")
            );
        }
    }
    let every = label_every(days.len());
    for (i, d) in days.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            LEFT + slot * (i as f64 + 0.5),
            HEIGHT - 8.0,
            escape(short(&d.day))
        );
    }
    out.push_str("</svg>");
    out
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Arrivals per hour of the week, as a grid whose darker cells are busier.
pub fn heatmap(by_hour: &[Vec<i64>]) -> String {
    let height = 7.0 * 22.0 + 30.0;
    let mut out = open("Conversations by hour of the week", height);
    let max = by_hour.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let cell = (WIDTH - LEFT) / 24.0;
    for (d, hours) in by_hour.iter().enumerate().take(7) {
        let y = d as f64 * 22.0;
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 15.0,
            DAYS[d]
        );
        for (h, &n) in hours.iter().enumerate().take(24) {
            let _ = write!(
                out,
                r#"<rect class="cell" x="{:.1}" y="{y:.1}" width="{:.1}" height="20" fill-opacity="{:.2}"><title>{} {h:02}:00: {n}</title></rect>"#,
                LEFT + cell * h as f64,
                cell - 2.0,
                0.08 + 0.92 * n as f64 / max,
                DAYS[d]
            );
        }
    }
    for h in (0..24).step_by(3) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{h:02}</text>"#,
            LEFT + cell * (h as f64 + 0.5),
            height - 8.0
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(day: &str, created: i64, wait: Option<f64>) -> Daily {
        Daily {
            day: day.into(),
            created,
            wait_median_s: wait,
            first_response_median_s: None,
        }
    }

    #[test]
    fn charts_are_labelled_svg_with_one_mark_per_value() {
        let days = [
            day("2026-11-01", 3, Some(120.0)),
            day("2026-11-02", 0, None),
        ];
        let v = volume(&days);
        assert!(v.starts_with("<svg") && v.ends_with("</svg>"));
        assert!(v.contains(r#"aria-label="Conversations per day""#));
        assert_eq!(v.matches("<rect").count(), 2);
        assert!(v.contains("<title>2026-11-01: 3</title>"));
        let t = trend(&days);
        assert_eq!(t.matches("<polyline").count(), 1, "no line without values");
        let mut grid = vec![vec![0; 24]; 7];
        grid[0][9] = 4;
        let h = heatmap(&grid);
        assert_eq!(h.matches("<rect").count(), 7 * 24);
        assert!(h.contains("<title>Mon 09:00: 4</title>"));
        assert_eq!(
            escape(r#"<a href="x">&"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
