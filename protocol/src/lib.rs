//! The values that cross from Baton's server to the browser and between its crates.
//!
//! Serde only, so the wasm app, the server and the domain layer share one definition
//! of each: a renamed status or event kind is then a compile error on both sides, not
//! a string that silently stops matching. With the `sqlx` feature (the server's), the
//! enums are also stored and read as the text the database's check constraints allow;
//! with `utoipa`, the REST API's description lists their values.
//!
//! - `realtime`: the websocket's frames, event kinds and close codes;
//! - `ticket`: status, closed reason, message origin and delivery state;
//! - `account`: role and presence;
//! - `canned`: the rules and the variables of canned replies;
//! - `label`: the rules for a label's name and colour;
//! - `mention`: typing `@` in a note, and picking a colleague;
//! - `routing`: manual or automatic assignment, capacities, team names;
//! - `search`: the kinds of search hits and their snippets;
//! - `files`: which URLs are Baton's own files (the only media shown inline);
//! - `integration`: which Botpress integration a connection serves.

pub mod account;
pub mod canned;
pub mod files;
pub mod integration;
pub mod label;
pub mod mention;
pub mod realtime;
pub mod routing;
pub mod search;
pub mod ticket;

/// A string was not one of an enum's names. Its message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a known {}", self.name, self.what)
    }
}

impl std::error::Error for UnknownName {}

/// Declares a unit enum named by snake_case strings: serde, `as_str`, `FromStr`,
/// `Display`, `ALL`, and (with `sqlx`) storage as text, (with `utoipa`) a schema.
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident as $what:literal {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
        #[cfg_attr(feature = "sqlx", sqlx(rename_all = "snake_case"))]
        #[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::UnknownName { what: $what, name: other.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    use crate::ticket::Status;

    #[test]
    fn names_round_trip_through_serde_and_from_str() {
        for status in Status::ALL {
            let json = serde_json::to_string(status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(status.as_str().parse::<Status>().unwrap(), *status);
        }
        let err = "open".parse::<Status>().unwrap_err();
        assert_eq!(err.to_string(), "\"open\" is not a known ticket status");
    }
}
