//! Markdown from bots, rendered to HTML that is safe to insert into the page.
//!
//! Raw HTML in the source is shown as text, links keep only http(s) and mailto
//! targets, and images become plain links (an inline image would load from any host
//! the moment an agent opens the ticket). Everything else is escaped by the renderer.

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

fn safe_target(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

pub fn to_html(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    // Links whose target is dropped leave their text; their end tags go with them.
    let mut dropped = Vec::new();
    let events = Parser::new_ext(source, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        // Images become links: an inline image would load from any host as soon
        // as an agent opens the ticket.
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            // Autolinked emails carry a bare address; the renderer adds mailto:.
            let keep = link_type == LinkType::Email || safe_target(&dest_url);
            dropped.push(!keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link | TagEnd::Image) => {
            (!dropped.pop().unwrap_or(false)).then_some(Event::End(TagEnd::Link))
        }
        other => Some(other),
    });
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    // Links open outside Baton and give the target no handle on this page.
    html.replace(
        "<a href=",
        "<a rel=\"noopener noreferrer nofollow\" target=\"_blank\" href=",
    )
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn formatting_survives() {
        let html = to_html("**bold** and [docs](https://example.com/a?b=1&c=2)\n\n- one\n- two");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/a?b=1&amp;c=2\""),
            "{html}"
        );
        assert!(html.contains("<li>one</li>"), "{html}");
    }

    #[test]
    fn html_and_script_are_inert() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "![x](javascript:alert(1))",
            "<svg onload=alert(1)>",
            "[x](data:text/html,<script>alert(1)</script>)",
        ] {
            let html = to_html(hostile);
            assert!(!html.contains("<script"), "{hostile} -> {html}");
            assert!(!html.contains("<img"), "{hostile} -> {html}");
            assert!(!html.contains("<svg"), "{hostile} -> {html}");
            assert!(
                !html.to_ascii_lowercase().contains("href=\"javascript"),
                "{hostile} -> {html}"
            );
            assert!(!html.contains("href=\"data:"), "{hostile} -> {html}");
        }
    }

    #[test]
    fn images_become_links() {
        let html = to_html("![cat](https://example.com/cat.png)");
        assert!(
            html.contains("<a rel=") && html.contains("cat</a>"),
            "{html}"
        );
        assert!(!html.contains("<img"), "{html}");
    }
}
