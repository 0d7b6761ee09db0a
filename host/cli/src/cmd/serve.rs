//! `tiny-mnist serve`: a local page to draw a digit on (mouse or finger) or
//! drop a photo onto, answered by the host and, with `--device`, by a board
//! beside it, with whether the two agree bit for bit.
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use board::device::{Device, Endpoint, Options};
use pictures::photo::Found;
use serde_json::{json, Value};
use shared::Classifier;
use trainer::model_file::Model;

use crate::cmd::outln;

/// The page, served as is.
const PAGE: &str = include_str!("serve/pad.html");
/// Larger uploads are refused: a phone photo is a few megabytes.
const MAX_UPLOAD: u64 = 20 << 20;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (only this machine by default).
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Port (0: any free one; the address is printed).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Weight file (default: the built-in models/default.bin).
    #[arg(short, long)]
    model: Option<PathBuf>,
    /// Also ask this board: a serial port, tcp:HOST:PORT, or emu:<board>.
    #[arg(short, long)]
    device: Option<String>,
    /// Firmware image for emu:<board> (default: that board's build in the checkout).
    #[arg(long)]
    firmware: Option<PathBuf>,
    /// Serial baud rate.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
}

pub fn run(args: Args) -> Result<()> {
    let (name, model) = super::load_model(args.model)?;
    eprintln!("{}", super::describe(&name, &model));
    let device = match &args.device {
        Some(d) => {
            let options = Options { firmware: args.firmware.clone(), baud: args.baud, ..Options::default() };
            let endpoint = Endpoint::parse(d)?;
            let mut device = Device::open(&endpoint, &options)?;
            let info = device.info().context("the device did not identify itself")?;
            // The same checks as `classify`: protocol, board, and above all the same model.
            board::parity::check_device(&endpoint, &info, &name, model.checksum)?;
            eprintln!("device {} (model crc {:08x}) answers beside the host", info.board, info.model_checksum);
            Some((d.clone(), Mutex::new(device)))
        }
        None => None,
    };
    let server = tiny_http::Server::http((args.bind.as_str(), args.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", args.bind, args.port))?;
    let address = server.server_addr().to_ip().context("not an IP address")?;
    // One line on stdout, for people and for the browser test that waits for it.
    outln!("drawing pad on http://{address}/");
    if address.ip().is_unspecified() {
        eprintln!(
            "note: listening on every interface: the pad is reachable from other machines too \
             (this one's address instead of {}, e.g. http://localhost:{}/ here)",
            address.ip(),
            address.port()
        );
    }
    // Each request on its own thread: a client that sends its picture slowly, or
    // never, holds up no one else (tiny_http gives no socket timeout to end it).
    let in_flight = AtomicUsize::new(0);
    let (model, device) = (&model, device.as_ref());
    std::thread::scope(|scope| {
        for request in server.incoming_requests() {
            if in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                answer(request, 503, "text/plain", "busy: too many requests at once".to_owned());
                continue;
            }
            let in_flight = &in_flight;
            scope.spawn(move || {
                handle(request, model, device);
                in_flight.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Ok(())
}

/// Requests served at once; more get 503.
const MAX_IN_FLIGHT: usize = 32;
/// How long a picture may take to arrive.
const BODY_DEADLINE: Duration = Duration::from_secs(30);

/// One request, answered.
fn handle(mut request: tiny_http::Request, model: &Model, device: Option<&(String, Mutex<Device>)>) {
    let (status, content_type, body) = match (request.method(), request.url()) {
        (tiny_http::Method::Get, "/") => (200, "text/html; charset=utf-8", PAGE.to_owned()),
        (tiny_http::Method::Post, "/classify") => match classify(&mut request, model, device) {
            Ok(answer) => (200, "application/json", answer.to_string()),
            Err(e) if is_timeout(&e) => {
                (408, "application/json", json!({ "error": "the picture took too long to arrive" }).to_string())
            }
            Err(e) => (400, "application/json", json!({ "error": format!("{e:#}") }).to_string()),
        },
        _ => (404, "text/plain", "not found".to_owned()),
    };
    answer(request, status, content_type, body);
}

/// Sends a response; a browser that left is only a warning.
fn answer(request: tiny_http::Request, status: u16, content_type: &str, body: String) {
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(header) = tiny_http::Header::from_bytes("Content-Type", content_type) {
        response = response.with_header(header);
    }
    if let Err(e) = request.respond(response) {
        eprintln!("warning: could not answer the browser: {e}");
    }
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
fn classify(
    request: &mut tiny_http::Request,
    model: &Model,
    device: Option<&(String, Mutex<Device>)>,
) -> Result<Value> {
    let mut bytes = Vec::new();
    let until = Instant::now() + BODY_DEADLINE;
    Deadline { inner: request.as_reader(), until }.take(MAX_UPLOAD + 1).read_to_end(&mut bytes)?;
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
    let board = match device {
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
}
