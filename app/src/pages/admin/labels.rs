//! Admin: the labels agents put on tickets. Names are unique in any case; colours
//! are `#rrggbb`. Renaming, recolouring or deleting one shows on every ticket that
//! carries it, live. Each change is audited.

use leptos::prelude::*;

use crate::api::labels::{CreateLabel, DeleteLabel, LabelView, UpdateLabel, labels};
use crate::components::guard::Guard;
use crate::components::labels::LabelChip;
use crate::components::session::{Session, on_signed_out};
use crate::error::AppError;

/// The colour a new label starts with (Baton's accent).
const FIRST_COLOUR: &str = "#2456d3";

#[derive(Clone, Copy)]
struct Loaded {
    list: Resource<Result<Vec<LabelView>, AppError>>,
    create: ServerAction<CreateLabel>,
    update: ServerAction<UpdateLabel>,
    delete: ServerAction<DeleteLabel>,
}

#[component]
pub fn LabelsPage() -> impl IntoView {
    // Created outside the guard (see `Guard`).
    let session = Session::load();
    let create = ServerAction::<CreateLabel>::new();
    let update = ServerAction::<UpdateLabel>::new();
    let delete = ServerAction::<DeleteLabel>::new();
    let list = Resource::new(
        move || create.version().get() + update.version().get() + delete.version().get(),
        move |_| session.then(labels()),
    );
    let loaded = Loaded {
        list,
        create,
        update,
        delete,
    };
    view! { <Guard session admin=true page=move |_| view! { <Labels loaded /> } /> }
}

#[component]
fn Labels(loaded: Loaded) -> impl IntoView {
    let Loaded {
        list,
        create,
        update,
        delete,
    } = loaded;
    on_signed_out(move || create.value().get());
    on_signed_out(move || update.value().get());
    on_signed_out(move || delete.value().get());
    let editing = RwSignal::new(None::<i64>);
    let name = RwSignal::new(String::new());
    let colour = RwSignal::new(FIRST_COLOUR.to_owned());
    let clear = move || {
        editing.set(None);
        name.set(String::new());
        colour.set(FIRST_COLOUR.to_owned());
    };
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(())))
            || matches!(update.value().get(), Some(Ok(())))
        {
            clear();
        }
    });
    let error = move || {
        crate::components::first_error([
            create.value().get().and_then(Result::err),
            update.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
        ])
    };
    let save = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (n, c) = (name.get_untracked(), colour.get_untracked());
        match editing.get_untracked() {
            Some(id) => {
                update.dispatch(UpdateLabel {
                    id,
                    name: n,
                    colour: c,
                });
            }
            None => {
                create.dispatch(CreateLabel { name: n, colour: c });
            }
        }
    };
    view! {
        <section class="card" data-testid="labels-admin">
            <h1>"Labels"</h1>
            <p class="muted">"Agents put these on tickets, and filter the inbox by them."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(rows) if rows.is_empty() => view! { <p class="muted">"No labels yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="table">
                            <thead><tr><th>"Label"</th><th>"Colour"</th><th></th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|l| {
                                    let (id, n, c) = (l.id, l.name.clone(), l.colour.clone());
                                    let shown = l.colour.clone();
                                    let asked = format!("Delete the label \u{201c}{}\u{201d}? It comes off every ticket.", l.name);
                                    view! {
                                        <tr data-testid="label-row">
                                            <td><LabelChip label=l /></td>
                                            <td><code>{shown}</code></td>
                                            <td class="row-actions">
                                                <button class="button secondary" type="button" on:click=move |_| {
                                                    editing.set(Some(id));
                                                    name.set(n.clone());
                                                    colour.set(c.clone());
                                                }>"Edit"</button>
                                                <button class="button secondary" type="button" on:click=move |_| {
                                                    if crate::components::confirm(&asked) {
                                                        delete.dispatch(DeleteLabel { id });
                                                    }
                                                }>"Delete"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <form class="form inline-form" on:submit=save data-testid="label-form">
                <label>
                    "Name"
                    <input type="text" name="name" required maxlength=protocol::label::MAX_NAME.to_string()
                        placeholder="e.g. Refund" prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e)) />
                </label>
                <label>
                    "Colour"
                    <input type="color" name="colour" prop:value=move || colour.get()
                        on:input=move |e| colour.set(event_target_value(&e)) />
                </label>
                <button class="button" type="submit" disabled=move || create.pending().get() || update.pending().get()>
                    {move || if editing.get().is_some() { "Save changes" } else { "Add label" }}
                </button>
                <button class="button secondary" type="button" hidden=move || editing.get().is_none()
                    on:click=move |_| clear()>"Cancel"</button>
            </form>
            {error}
        </section>
    }
}
