//! Labels: the rules for a name and a colour, shared by the server (which refuses a
//! bad one) and the browser (which draws the chip).

/// The longest label name, in characters.
pub const MAX_NAME: usize = 40;

/// Checks a name and a colour, returning the name trimmed and the colour as
/// lowercase `#rrggbb`. Only that form is accepted: the colour goes into a style
/// attribute, where anything else could carry CSS.
pub fn validate(name: &str, colour: &str) -> Result<(String, String), String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(format!("a label's name must be 1 to {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a label's name may not contain control characters".into());
    }
    let colour = colour.trim().to_ascii_lowercase();
    let hex = colour.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "the colour must be like #2456d3, not {:?}",
            colour.chars().take(20).collect::<String>()
        ));
    }
    Ok((name.to_owned(), colour))
}

/// Black or white, whichever reads better on `colour` (a valid `#rrggbb`): the WCAG
/// relative luminance, against the midpoint of the two contrasts.
pub fn text_on(colour: &str) -> &'static str {
    let channel = |i: usize| {
        let v = colour
            .get(1 + 2 * i..3 + 2 * i)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |v| f64::from(v) / 255.0);
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
    // Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05); they
    // are equal at L ≈ 0.179.
    if luminance > 0.179 {
        "#000000"
    } else {
        "#ffffff"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours_are_checked() {
        assert_eq!(
            validate("  Refund ", "#2456D3").unwrap(),
            ("Refund".to_owned(), "#2456d3".to_owned())
        );
        assert!(validate("", "#000000").is_err());
        assert!(validate(&"x".repeat(MAX_NAME + 1), "#000000").is_err());
        assert!(validate("a\u{7}b", "#000000").is_err());
        for bad in [
            "red",
            "#fff",
            "#12345g",
            "#123456;background:url(x)",
            "",
            "123456",
        ] {
            assert!(validate("ok", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn chip_text_is_readable() {
        assert_eq!(text_on("#ffffff"), "#000000");
        assert_eq!(text_on("#ffe066"), "#000000");
        assert_eq!(text_on("#000000"), "#ffffff");
        assert_eq!(text_on("#2456d3"), "#ffffff");
        assert_eq!(text_on("#b42318"), "#ffffff");
    }
}
