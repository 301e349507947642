//! Timestamps as people read them.
//!
//! The server does not know the reader's time zone, so the HTML says UTC; once the
//! page has hydrated, [`Time`] switches to the browser's own zone and language
//! ("14:03", "Mon 14:03", "21 Nov 14:03"), with the full date and time on hover.
//! The first render in the browser repeats the server's text, so hydration never
//! disagrees with the HTML.

use leptos::prelude::*;

/// How much of an instant to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The time of day, with the day when it is not today (message bubbles).
    Short,
    /// Date and time (ticket facts).
    Full,
}

/// A `<time>` element: UTC in the server's HTML, local time once hydrated.
#[component]
pub fn Time(ms: i64, #[prop(default = Shown::Short)] shown: Shown) -> impl IntoView {
    let local = RwSignal::new(None::<(String, String)>);
    Effect::new(move |_| local.set(local_text(ms, shown)));
    let text = move || local.with(|l| l.as_ref().map(|(t, _)| t.clone()));
    let title = move || local.with(|l| l.as_ref().map(|(_, full)| full.clone()));
    view! {
        <time
            datetime=iso_utc(ms)
            title=move || title().unwrap_or_else(|| format_utc(ms))
        >
            {move || text().unwrap_or_else(|| format_utc(ms))}
        </time>
    }
}

/// [`Time`] in full, or a word such as "never".
#[component]
pub fn TimeOr(ms: Option<i64>, or: &'static str) -> impl IntoView {
    match ms {
        Some(ms) => view! { <Time ms shown=Shown::Full /> }.into_any(),
        None => or.into_any(),
    }
}

/// The text and hover title in the browser's zone and language; `None` on the server.
fn local_text(ms: i64, shown: Shown) -> Option<(String, String)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let locale = window()
            .navigator()
            .language()
            .unwrap_or_else(|| "en-US".to_owned());
        let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
        let today = js_sys::Date::new_0();
        let options = |pairs: &[(&str, &str)]| {
            let o = js_sys::Object::new();
            for (k, v) in pairs {
                let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
            }
            JsValue::from(o)
        };
        let format = |pairs: &[(&str, &str)]| -> String {
            date.to_locale_string(&locale, &options(pairs)).into()
        };
        let same_day = date.to_date_string() == today.to_date_string();
        let age_days = (today.get_time() - date.get_time()) / 86_400_000.0;
        let same_year = date.get_full_year() == today.get_full_year();
        let time = [("hour", "2-digit"), ("minute", "2-digit")];
        let text = match shown {
            Shown::Short if same_day => format(&time),
            Shown::Short if (0.0..6.0).contains(&age_days) => {
                format(&[("weekday", "short"), time[0], time[1]])
            }
            _ if same_year => format(&[("day", "numeric"), ("month", "short"), time[0], time[1]]),
            _ => format(&[
                ("day", "numeric"),
                ("month", "short"),
                ("year", "numeric"),
                time[0],
                time[1],
            ]),
        };
        let full = format(&[("dateStyle", "full"), ("timeStyle", "short")]);
        Some((text, full))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ms, shown);
        None
    }
}

/// `2026-11-21T14:03:59Z`, for `<time datetime>`.
pub fn iso_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        (of_day % 3600) / 60,
        of_day % 60
    )
}

/// `2026-11-21 14:03 UTC` from milliseconds since the Unix epoch.
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        of_day / 3600,
        (of_day % 3600) / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        // 2026-11-21T14:03:59Z
        assert_eq!(format_utc(1_795_269_839_000), "2026-11-21 14:03 UTC");
        // A leap day.
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn iso_for_the_datetime_attribute() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_795_269_839_000), "2026-11-21T14:03:59Z");
    }
}
