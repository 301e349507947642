//! CSV as Baton writes it (RFC 4180, CRLF line ends): the one writer of the ticket
//! export and of every report table.
//!
//! Cells hold what customers wrote (titles, names), and a spreadsheet runs a cell
//! that starts with `=`, `+`, `-`, `@`, tab or CR as a formula. Checking a field's
//! first character is not enough: a spreadsheet that takes `;` or tab as its
//! separator (whatever the file uses) splits `x;=1+1` into two cells, the second a
//! formula. So a formula character gets a `'` before it (which spreadsheets show as
//! text and hide) at the start of the field and after every `;`, `,` or tab, spaces
//! in between included, since a spreadsheet may trim them. Every field is quoted, so
//! a field's separators and line breaks never split it in a reader that follows the
//! file's own `,`.

/// Characters that make a spreadsheet read a cell as a formula when they start it.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Characters a spreadsheet may split a cell at: separators, and line ends (a
/// reader that ignores quotes starts a row there).
const SEPARATORS: [char; 5] = [';', ',', '\t', '\n', '\r'];

/// One field: quoted, its quotes doubled, every formula start neutralised.
pub fn field(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut cell_start = true;
    for c in value.chars() {
        if cell_start && FORMULA_START.contains(&c) {
            out.push('\'');
        }
        if c == '"' {
            out.push('"');
        }
        out.push(c);
        cell_start = SEPARATORS.contains(&c) || (cell_start && c == ' ');
    }
    out.push('"');
    out
}

/// One line: every field through [`field`], separated by `,`, ending in CRLF.
pub fn line(fields: &[impl AsRef<str>]) -> String {
    let mut out = String::new();
    for (i, value) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(value.as_ref()));
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_quoted_unchanged() {
        assert_eq!(field("Where is my parcel?"), "\"Where is my parcel?\"");
        assert_eq!(field(""), "\"\"");
        assert_eq!(field("12.5"), "\"12.5\"");
        // A formula character inside a cell's text is harmless.
        assert_eq!(field("2026-11-28T21:42:05Z"), "\"2026-11-28T21:42:05Z\"");
        assert_eq!(field("a=b+c"), "\"a=b+c\"");
    }

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("\""), "\"\"\"\"");
    }

    #[test]
    fn a_formula_at_the_start_is_neutralised() {
        for (raw, written) in [
            ("=1+1", "\"'=1+1\""),
            ("+1", "\"'+1\""),
            ("-1", "\"'-1\""),
            ("@sum", "\"'@sum\""),
            ("\t=1", "\"'\t'=1\""),
            ("\r=1", "\"'\r'=1\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("  =1", "\"  '=1\""),
        ] {
            assert_eq!(field(raw), written, "{raw:?}");
        }
    }

    #[test]
    fn a_formula_after_a_separator_is_neutralised() {
        assert_eq!(field("x;=1+1"), "\"x;'=1+1\"");
        assert_eq!(field("x,=1+1"), "\"x,'=1+1\"");
        assert_eq!(field("x\t=1+1"), "\"x\t'=1+1\"");
        assert_eq!(field("x; @sum"), "\"x; '@sum\"");
        assert_eq!(field("a;-1;+2"), "\"a;'-1;'+2\"");
        // A tab is both: a separator, and a formula start after another one.
        assert_eq!(field("x;\t=1"), "\"x;'\t'=1\"");
        // Nor on a new line, for a reader that ignores the quotes.
        assert_eq!(field("x\n=cmd"), "\"x\n'=cmd\"");
        assert_eq!(field("x\r\n@sum"), "\"x\r\n'@sum\"");
        // Not after a separator: left alone.
        assert_eq!(field("x; y=1"), "\"x; y=1\"");
    }

    #[test]
    fn a_line_quotes_every_field() {
        assert_eq!(line(&["a", "b c"]), "\"a\",\"b c\"\r\n");
        assert_eq!(line(&["x,y", "two\nlines"]), "\"x,y\",\"two\nlines\"\r\n");
        assert_eq!(
            line(&["-1".to_owned(), "ok".to_owned()]),
            "\"'-1\",\"ok\"\r\n"
        );
    }
}
