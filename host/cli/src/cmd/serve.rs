//! `tiny-mnist serve`: a local page to draw a digit on (mouse or finger) or
//! drop a photo onto, answered by the host and, with `--device`, by a board
//! beside it, with whether the two agree bit for bit.
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use board::device::{Device, Endpoint, Options};
use pictures::photo::{preprocess, Found};
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
    for mut request in server.incoming_requests() {
        let (status, content_type, body) = match (request.method(), request.url()) {
            (tiny_http::Method::Get, "/") => (200, "text/html; charset=utf-8", PAGE.to_owned()),
            (tiny_http::Method::Post, "/classify") => match classify(&mut request, &model, device.as_ref()) {
                Ok(answer) => (200, "application/json", answer.to_string()),
                Err(e) => (400, "application/json", json!({ "error": format!("{e:#}") }).to_string()),
            },
            _ => (404, "text/plain", "not found".to_owned()),
        };
        let header =
            tiny_http::Header::from_bytes("Content-Type", content_type).map_err(|()| anyhow::anyhow!("bad header"))?;
        let response = tiny_http::Response::from_string(body).with_status_code(status).with_header(header);
        if let Err(e) = request.respond(response) {
            eprintln!("warning: could not answer the browser: {e}");
        }
    }
    Ok(())
}

/// A picture in the request's body to the host's (and the board's) answer.
fn classify(
    request: &mut tiny_http::Request,
    model: &Model,
    device: Option<&(String, Mutex<Device>)>,
) -> Result<Value> {
    let mut bytes = Vec::new();
    request.as_reader().take(MAX_UPLOAD + 1).read_to_end(&mut bytes)?;
    anyhow::ensure!(bytes.len() as u64 <= MAX_UPLOAD, "the picture is over {} MB", MAX_UPLOAD >> 20);
    let picture = image::load_from_memory(&bytes).context("not a PNG, JPEG or PGM picture this tool can decode")?;
    let image = match preprocess(&picture.to_luma8())? {
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
