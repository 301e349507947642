//! Who else is here: the colleagues who have this conversation open, and who of
//! them is typing, so that two agents do not answer the customer at once. The
//! realtime connection carries it (`Realtime::here`); the page only shows it.

use leptos::prelude::*;

use crate::components::avatar::initials;
use crate::components::realtime::{Viewer, use_realtime};
use crate::components::session::Session;

/// The people on this ticket besides the one looking.
fn others() -> Signal<Vec<Viewer>> {
    let realtime = use_realtime();
    let session = use_context::<Session>().unwrap_or_else(Session::load);
    Signal::derive(move || {
        let me = session.user_untracked().map(|u| u.public_id);
        realtime.here.with(|here| {
            here.as_ref()
                .map(|(_, people)| {
                    people
                        .iter()
                        .filter(|p| me.as_deref() != Some(p.agent.as_str()))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    })
}

/// "Ana", "Ana and Ben", "Ana, Ben and Cy".
fn names(people: &[&str]) -> String {
    match people {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Avatars of the colleagues who have the conversation open, in the header.
#[component]
pub(super) fn AlsoHere() -> impl IntoView {
    let others = others();
    move || {
        let people = others.get();
        (!people.is_empty()).then(|| {
            let list: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
            let verb = if people.len() == 1 { "has" } else { "have" };
            let label = format!("{} {verb} this conversation open too", names(&list));
            view! {
                <p class="also-here" data-testid="also-here">
                    {people.iter().map(|p| view! {
                        <span class="avatar-initials small" aria-hidden="true" title=p.name.clone()>{initials(&p.name)}</span>
                    }).collect_view()}
                    <span class="also-here-text">{label}</span>
                </p>
            }
        })
    }
}

/// "Ana is typing…", above the composer.
#[component]
pub(super) fn TypingNow() -> impl IntoView {
    let others = others();
    let text = move || {
        let people = others.get();
        let typing: Vec<&str> = people
            .iter()
            .filter(|p| p.typing)
            .map(|p| p.name.as_str())
            .collect();
        match typing.len() {
            0 => String::new(),
            1 => format!("{} is typing…", typing[0]),
            _ => format!("{} are typing…", names(&typing)),
        }
    };
    // Always in the page, so that screen readers hear the change.
    view! { <p class="typing-now" data-testid="typing" role="status">{text}</p> }
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_read_as_a_sentence() {
        assert_eq!(names(&["Ana"]), "Ana");
        assert_eq!(names(&["Ana", "Ben"]), "Ana and Ben");
        assert_eq!(names(&["Ana", "Ben", "Cy"]), "Ana, Ben and Cy");
    }
}
