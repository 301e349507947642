//! The paths of the files Baton serves itself (agents' attachments, its copies of
//! customers' media): `/files/<key>/<name>`.
//!
//! Pages show only these inline, with the viewer's session: an `<img>` or a player
//! fetches its source without a click. A bot can put any URL into a message, so a
//! path that merely starts with `/files/` is not enough (`/files/../api/v1/…` is
//! another of Baton's routes once the browser resolves it). A URL is one of Baton's
//! files only when it has exactly their shape; anything else is someone else's link.

/// What every file path starts with.
pub const PREFIX: &str = "/files/";

/// Length of a key: 32 random bytes as hex (`backend::ids::new_token`).
const KEY_LEN: usize = 64;

/// Longest stored name (`backend::attachments::safe_name` keeps 100 characters).
const LONGEST_NAME: usize = 100;

/// Whether `url` is exactly the path of one of Baton's files: [`PREFIX`], a key of
/// 64 lowercase hex digits, `/`, and a name of ASCII letters, digits, `.`, `-` and
/// `_` that does not start with a dot. So no `.` or `..` segment, no
/// percent-encoding (an encoded dot or slash), no backslash, no query or fragment,
/// no scheme or host.
pub fn is_own_file(url: &str) -> bool {
    let Some((key, name)) = url
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('/'))
    else {
        return false;
    };
    is_key(key) && is_name(name)
}

fn is_key(key: &str) -> bool {
    key.len() == KEY_LEN && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= LONGEST_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_file_of_ours_is_recognised() {
        for name in ["a.png", "receipt_2024-11.pdf", "file", "a..b.png"] {
            assert!(is_own_file(&format!("/files/{KEY}/{name}")), "{name}");
        }
        let longest = "n".repeat(100);
        assert!(is_own_file(&format!("/files/{KEY}/{longest}")));
    }

    #[test]
    fn anything_else_is_not() {
        let upper = KEY.to_ascii_uppercase();
        let short = &KEY[..63];
        let too_long = "n".repeat(101);
        for url in [
            "/files/../api/v1/tickets/export.csv".to_owned(),
            "/files/abc/a.png".to_owned(),
            format!("/files/{KEY}/../../api/v1/tickets/export.csv"),
            format!("/files/{KEY}/.."),
            format!("/files/{KEY}/."),
            format!("/files/{KEY}/.htaccess"),
            format!("/files/{KEY}/%2e%2e"),
            format!("/files/{KEY}/a%2Fb.png"),
            format!("/files/{KEY}%2fa.png"),
            format!("/files/{KEY}/a\\b.png"),
            format!("/files/{KEY}\\a.png"),
            format!("/files/{KEY}/a.png?x=1"),
            format!("/files/{KEY}/a.png#x"),
            format!("/files/{KEY}/a/b.png"),
            format!("/files/{KEY}/"),
            format!("/files/{KEY}"),
            format!("/files/{upper}/a.png"),
            format!("/files/{short}/a.png"),
            format!("/files/{KEY}0/a.png"),
            format!("/files/{KEY}/{too_long}"),
            format!("/files/{KEY}/a b.png"),
            format!("//files/{KEY}/a.png"),
            format!("/FILES/{KEY}/a.png"),
            format!("https://example.com/files/{KEY}/a.png"),
            format!(" /files/{KEY}/a.png"),
            String::new(),
        ] {
            assert!(!is_own_file(&url), "{url}");
        }
    }
}
