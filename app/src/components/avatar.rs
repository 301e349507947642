//! Initials in a circle: who wrote a message or waits in the list, at a glance,
//! without loading a picture from a third party.

/// "Dana Customer" → "DC", "ana@example.com" → "A", "" → "?".
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split(|c: char| c.is_whitespace() || c == '@' || c == '.')
        .filter(|w| !w.is_empty())
        .take(if name.contains('@') { 1 } else { 2 })
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() {
        "?".to_owned()
    } else {
        letters
    }
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_of_names_and_emails() {
        assert_eq!(initials("Dana Customer"), "DC");
        assert_eq!(initials("  ana   de la cruz "), "AD");
        assert_eq!(initials("ana@example.com"), "A");
        assert_eq!(initials("Émile"), "É");
        assert_eq!(initials(""), "?");
    }
}
