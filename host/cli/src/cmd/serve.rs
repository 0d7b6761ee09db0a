//! `tiny-mnist serve`: a local page to draw a digit on (mouse or finger) or
//! drop a photo onto, answered by the host and, with `--device`, by a board
//! beside it, with whether the two agree bit for bit.
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use board::device::{Device, Endpoint, Options};
use pad::Method;
use trainer::model_file::Model;

use crate::cmd::outln;

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
    eprintln!("{}", model.describe(&name));
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

/// One request, answered by [`pad::reply`].
fn handle(mut request: tiny_http::Request, model: &Model, board: Option<&pad::Board>) {
    let method = match request.method() {
        tiny_http::Method::Get => Method::Get,
        tiny_http::Method::Post => Method::Post,
        _ => Method::Other,
    };
    let path = request.url().to_owned();
    let reply = pad::reply(method, &path, request.as_reader(), model, board);
    answer(request, reply.status, reply.content_type, reply.body);
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
