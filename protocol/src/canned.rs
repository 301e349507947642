//! Canned replies: the rules for a shortcut and a body, and filling in the variables.
//!
//! Shared by the server, which refuses a reply that breaks a rule when it is saved,
//! and the browser, which fills a reply into the composer. One implementation means
//! a body that saved is a body that fills: an unknown variable is an error on save,
//! never a blank at send time.

/// The longest shortcut, in characters.
pub const MAX_SHORTCUT: usize = 32;
/// The longest body, in characters: a long answer, not a document.
pub const MAX_BODY: usize = 5_000;

/// A variable that a body may use as `{{name}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    CustomerName,
    CustomerEmail,
    AgentName,
    TicketTitle,
}

impl Variable {
    pub const ALL: &'static [Variable] = &[
        Variable::CustomerName,
        Variable::CustomerEmail,
        Variable::AgentName,
        Variable::TicketTitle,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variable::CustomerName => "customer.name",
            Variable::CustomerEmail => "customer.email",
            Variable::AgentName => "agent.name",
            Variable::TicketTitle => "ticket.title",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// What the variables stand for in one conversation. A value that is not known (a
/// customer without an email) fills in as an empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pub customer_name: String,
    pub customer_email: String,
    pub agent_name: String,
    pub ticket_title: String,
}

impl Values {
    fn get(&self, variable: Variable) -> &str {
        match variable {
            Variable::CustomerName => &self.customer_name,
            Variable::CustomerEmail => &self.customer_email,
            Variable::AgentName => &self.agent_name,
            Variable::TicketTitle => &self.ticket_title,
        }
    }
}

/// A piece of a body: text as written, or a variable.
enum Piece<'a> {
    Text(&'a str),
    Variable(Variable),
}

/// Splits a body into text and variables. `{{ name }}` may have spaces inside the
/// braces. The error names the first variable that is not known, or the `{{` that is
/// never closed.
fn pieces(body: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a {{ is never closed with }}".into());
        };
        let name = after[..end].trim();
        let variable = Variable::parse(name).ok_or_else(|| {
            let known: Vec<String> = Variable::ALL
                .iter()
                .map(|v| format!("{{{{{}}}}}", v.name()))
                .collect();
            format!("{{{{{name}}}}} is not a variable; use {}", known.join(", "))
        })?;
        out.push(Piece::Variable(variable));
        rest = &after[end + 2..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

/// Checks a shortcut and a body, returning them trimmed. The message says what to fix.
pub fn validate<'a>(shortcut: &'a str, body: &'a str) -> Result<(&'a str, &'a str), String> {
    let shortcut = shortcut.trim().trim_start_matches('/');
    if shortcut.is_empty() || shortcut.chars().count() > MAX_SHORTCUT {
        return Err(format!(
            "the shortcut must be 1 to {MAX_SHORTCUT} characters"
        ));
    }
    if !shortcut
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err("the shortcut may have letters, digits, - and _ only".into());
    }
    let body = body.trim();
    if body.is_empty() {
        return Err("the reply's text is empty".into());
    }
    let length = body.chars().count();
    if length > MAX_BODY {
        return Err(format!(
            "the reply's text is {length} characters; the most is {MAX_BODY}"
        ));
    }
    pieces(body)?;
    Ok((shortcut, body))
}

/// The body with its variables filled in. A body that does not validate (which the
/// server never stores) comes back as it is.
pub fn fill(body: &str, values: &Values) -> String {
    let Ok(pieces) = pieces(body) else {
        return body.to_owned();
    };
    let mut out = String::with_capacity(body.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(v) => out.push_str(values.get(v)),
        }
    }
    out
}

/// Whether a reply matches what the agent typed after `/`: its shortcut starts with
/// it, or its body contains it (both ignoring case). Shortcut matches sort first.
pub fn rank(query: &str, shortcut: &str, body: &str) -> Option<u8> {
    let query = query.to_lowercase();
    if shortcut.to_lowercase().starts_with(&query) {
        Some(0)
    } else if shortcut.to_lowercase().contains(&query) {
        Some(1)
    } else if body.to_lowercase().contains(&query) {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            customer_name: "Ada".into(),
            customer_email: "ada@example.com".into(),
            agent_name: "Ana".into(),
            ticket_title: "Refund".into(),
        }
    }

    #[test]
    fn variables_fill_in_and_text_stays() {
        let body = "Hi {{customer.name}}, {{ agent.name }} here about \u{201c}{{ticket.title}}\u{201d}. We write to {{customer.email}}.";
        assert!(validate("hi", body).is_ok());
        assert_eq!(
            fill(body, &values()),
            "Hi Ada, Ana here about \u{201c}Refund\u{201d}. We write to ada@example.com."
        );
        assert_eq!(fill("no variables", &values()), "no variables");
        assert_eq!(fill("{{customer.email}}", &Values::default()), "");
    }

    #[test]
    fn an_unknown_variable_is_an_error_when_saving() {
        let err = validate("hi", "Hello {{customer.phone}}").unwrap_err();
        assert!(
            err.contains("{{customer.phone}} is not a variable"),
            "{err}"
        );
        assert!(err.contains("{{customer.name}}"), "{err}");
        let err = validate("hi", "Hello {{customer.name").unwrap_err();
        assert!(err.contains("never closed"), "{err}");
    }

    #[test]
    fn shortcuts_and_bodies_have_limits() {
        assert_eq!(
            validate(" /thanks ", " Thank you! ").unwrap(),
            ("thanks", "Thank you!")
        );
        assert!(validate("", "x").is_err());
        assert!(validate("two words", "x").is_err());
        assert!(validate(&"a".repeat(MAX_SHORTCUT + 1), "x").is_err());
        assert!(validate("ok", "   ").is_err());
        assert!(validate("ok", &"x".repeat(MAX_BODY)).is_ok());
        let err = validate("ok", &"x".repeat(MAX_BODY + 1)).unwrap_err();
        assert!(err.contains("5001 characters"), "{err}");
    }

    #[test]
    fn shortcut_matches_rank_before_body_matches() {
        assert_eq!(rank("ref", "refund", "Money back"), Some(0));
        assert_eq!(rank("FUND", "refund", "Money back"), Some(1));
        assert_eq!(rank("money", "refund", "Money back"), Some(2));
        assert_eq!(rank("zzz", "refund", "Money back"), None);
        assert_eq!(rank("", "refund", "x"), Some(0));
    }
}
