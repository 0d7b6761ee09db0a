//! The drawing pad's answers (`tiny-mnist serve`): a request (method, path,
//! body) to a status and a body, without the server around it (the CLI's
//! `serve` owns the sockets). Its own crate, so that the fuzz target for the
//! pad's requests runs exactly this code without building the whole CLI.
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use board::device::Device;
use pictures::photo::Found;
use serde_json::{json, Value};
use shared::Classifier;
use trainer::model_file::Model;

/// The page, served as is.
const PAGE: &str = include_str!("pad.html");
/// Larger uploads are refused: a phone photo is a few megabytes.
pub const MAX_UPLOAD: u64 = 20 << 20;
/// How long a picture may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);

/// The request methods the pad tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// Any other: only ever "not found".
    Other,
}

/// What the pad answers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// A board answering beside the host: its name as the user gave it, and its link.
pub type Board = (String, Mutex<Device>);

/// One request, answered: the page, a picture classified, or "not found".
/// A picture that is not one, or not a digit, is a 200 or 400 with the reason;
/// a body slower than [`BODY_DEADLINE`] is a 408.
pub fn reply(method: Method, path: &str, body: impl Read, model: &Model, board: Option<&Board>) -> Reply {
    let (status, content_type, body) = match (method, path) {
        (Method::Get, "/") => (200, "text/html; charset=utf-8", PAGE.to_owned()),
        (Method::Post, "/classify") => match classify(body, model, board) {
            Ok(answer) => (200, "application/json", answer.to_string()),
            Err(e) if is_timeout(&e) => {
                (408, "application/json", json!({ "error": "the picture took too long to arrive" }).to_string())
            }
            Err(e) => (400, "application/json", json!({ "error": format!("{e:#}") }).to_string()),
        },
        _ => (404, "text/plain", "not found".to_owned()),
    };
    Reply { status, content_type, body }
}

/// Whether reading the request ran past [`BODY_DEADLINE`].
fn is_timeout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut))
}

/// A reader that fails with `TimedOut` once its deadline has passed (checked
/// as bytes arrive: a client that trickles them is cut off).
struct Deadline<R> {
    inner: R,
    until: Instant,
}

impl<R: Read> Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if Instant::now() > self.until {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.inner.read(buf)
    }
}

/// A picture in the request's body to the host's (and the board's) answer.
fn classify(body: impl Read, model: &Model, board: Option<&Board>) -> Result<Value> {
    let mut bytes = Vec::new();
    let until = Instant::now() + BODY_DEADLINE;
    Deadline { inner: body, until }.take(MAX_UPLOAD + 1).read_to_end(&mut bytes)?;
    anyhow::ensure!(bytes.len() as u64 <= MAX_UPLOAD, "the picture is over {} MB", MAX_UPLOAD >> 20);
    // The same way in as `predict --image`: transparency, orientation, the size limit.
    let image = match pictures::photo::from_bytes(&bytes)? {
        Found::Digit(image) => *image,
        Found::NotADigit(why) => {
            return Ok(json!({ "digit": null, "not_a_digit": { "reason": why.name(), "message": why.to_string() } }))
        }
    };
    let input = model.info.preprocessing.apply(&image);
    let host = model.network.classify(&input);
    // What the network sees, drawn for a person (stroke maps as lines).
    let view = pictures::view::network_view(model.info.preprocessing, &image);
    let board = match board {
        Some((name, device)) => {
            let mut device = device.lock().map_err(|_| anyhow::anyhow!("the board's link broke earlier"))?;
            let mut answer = None;
            device.classify_all([&image], 1, |_, p| {
                answer = Some(p);
                Ok(())
            })?;
            answer.map(|p| {
                let same = board::parity::bit_exact(&host, &p);
                json!({ "name": name, "digit": p.digit, "probabilities": p.probabilities, "bit_exact": same })
            })
        }
        None => None,
    };
    Ok(json!({
        "digit": host.digit,
        "class": model.info.classes.name(host.digit),
        "probabilities": host.probabilities,
        "input": view.as_raw(),
        "input_side": view.width(),
        "not_a_digit": null,
        "device": board,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_that_passed_ends_the_read() {
        let mut late = Deadline { inner: &b"picture"[..], until: Instant::now() - Duration::from_secs(1) };
        let e = late.read(&mut [0; 4]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(is_timeout(&anyhow::Error::new(e)));
        let mut early = Deadline { inner: &b"picture"[..], until: Instant::now() + Duration::from_secs(60) };
        let mut all = Vec::new();
        early.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"picture");
    }

    #[test]
    fn requests_get_the_page_an_answer_or_a_reason() {
        let model = trainer::model_file::default_model().unwrap();
        let page = reply(Method::Get, "/", &b""[..], &model, None);
        assert_eq!((page.status, page.content_type), (200, "text/html; charset=utf-8"));
        assert_eq!(reply(Method::Other, "/", &b""[..], &model, None).status, 404);
        assert_eq!(reply(Method::Get, "/classify", &b""[..], &model, None).status, 404);
        let garbage = reply(Method::Post, "/classify", &b"not a picture"[..], &model, None);
        assert_eq!(garbage.status, 400);
        let error: Value = serde_json::from_str(&garbage.body).unwrap();
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", garbage.body);
    }
}
