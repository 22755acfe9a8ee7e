//! The JobManager's event stream, `GET /events` (server-sent events), read
//! on a thread of its own.
//!
//! mini-flink's JobManager serves every event it emits this way, as the
//! JSON of [`runtime::events::Event`], from the moment of subscribing.
//! Apache Flink serves no such stream (404): the TUI then derives its log
//! from polls alone ([`super::diff`]).
//!
//! [`subscribe`] makes the request and returns once the answer's headers
//! say the stream is open, so that whoever subscribes knows that
//! everything after this moment will come. [`read`] parses the stream:
//! `event:` and `data:` lines, a blank line ends an event, `:` lines are
//! comments (keep-alives, or the server saying it dropped events for a
//! slow reader, which ends the stream: the polls cover the gap).
//!
//! In: the REST client's address and token. Out: [`Event`]s, then why the
//! stream ended.

use super::client::RestClient;
use runtime::events::Event;
use std::io::{BufRead, BufReader, Read};

/// What subscribing gave.
pub enum Subscribed {
    /// The stream is open: read it with [`read`].
    Open(Box<dyn Read + Send>),
    /// The cluster serves no event stream (Apache Flink): poll only.
    NotServed,
    /// It could not be opened now (try again later).
    Failed(String),
}

/// Opens `GET /events` (no timeout: the stream is long-lived).
pub fn subscribe(client: &RestClient) -> Subscribed {
    let url = format!("{}/events", client.base());
    let agent = client.agent_with(None, Some(super::client::REQUEST_TIMEOUT));
    let mut req = agent.get(&url).header("Accept", "text/event-stream");
    if let Some(t) = client.token() {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(e) => return Subscribed::Failed(format!("GET {url}: {e}")),
    };
    let status = resp.status().as_u16();
    let is_stream = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    match status {
        200 if is_stream => Subscribed::Open(Box::new(resp.into_body().into_reader())),
        200 | 404 | 405 => Subscribed::NotServed,
        s => Subscribed::Failed(format!("GET {url}: HTTP {s}")),
    }
}

/// One thing read from the stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// An event.
    Event(Event),
    /// The stream ended, and why.
    End(String),
}

/// Reads the stream, handing each event to `each` until it ends or
/// `each` returns false; the last item is always an [`Item::End`] (unless
/// `each` said stop).
pub fn read(r: impl Read, mut each: impl FnMut(Item) -> bool) {
    let mut lines = BufReader::new(r).lines();
    let mut data = String::new();
    loop {
        let line = match lines.next() {
            Some(Ok(l)) => l,
            Some(Err(e)) => {
                each(Item::End(format!("the event stream broke off: {e}")));
                return;
            }
            None => {
                each(Item::End("the JobManager closed the event stream".into()));
                return;
            }
        };
        if line.is_empty() {
            if data.is_empty() {
                continue;
            }
            let item = match serde_json::from_str::<Event>(&data) {
                Ok(e) => Some(Item::Event(e)),
                // An event this build does not know: skipped, not fatal.
                Err(_) => None,
            };
            data.clear();
            if let Some(item) = item
                && !each(item)
            {
                return;
            }
        } else if let Some(comment) = line.strip_prefix(':') {
            if comment.contains("dropped") {
                each(Item::End(format!(
                    "the JobManager says:{comment}; the polls cover the gap"
                )));
                return;
            }
        } else if let Some(d) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        }
        // `event:`, `id:`, `retry:`: the JSON says what the event is.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runtime::events::EventKind;

    fn all(text: &str) -> Vec<Item> {
        let mut v = Vec::new();
        read(text.as_bytes(), |i| {
            v.push(i);
            true
        });
        v
    }

    /// Events as mini-flink's JobManager writes them, keep-alives between,
    /// an unknown event skipped, the end said.
    #[test]
    fn parses_the_stream() {
        let text = concat!(
            ": keep-alive\n\n",
            "event: TaskManagerRegistered\n",
            "data: {\"t\":5,\"host\":\"jobmanager\",\"event\":\"TaskManagerRegistered\",\"resource_id\":\"tm-1\",\"slots\":2,\"data_addr\":\"127.0.0.1:1\"}\n\n",
            "event: Martian\ndata: {\"event\":\"Martian\"}\n\n",
            "event: WorkerReleased\n",
            "data: {\"t\":7,\"host\":\"jobmanager\",\n",
            "data: \"event\":\"WorkerReleased\",\"resource_id\":\"tm-1\"}\n\n",
        );
        let items = all(text);
        assert_eq!(items.len(), 3, "{items:?}");
        let Item::Event(e) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(e.t, 5);
        assert!(matches!(
            &e.kind,
            EventKind::TaskManagerRegistered { slots: 2, .. }
        ));
        assert!(matches!(
            &items[1],
            Item::Event(Event {
                kind: EventKind::WorkerReleased { .. },
                ..
            })
        ));
        assert!(matches!(&items[2], Item::End(w) if w.contains("closed")));
    }

    /// A server that dropped events for a slow reader ends the stream.
    #[test]
    fn dropped_events_end_the_stream() {
        let items = all(": 12 events were dropped: this reader was too slow\n\ndata: {}\n\n");
        assert!(
            matches!(&items[..], [Item::End(w)] if w.contains("12 events were dropped")),
            "{items:?}"
        );
    }
}
