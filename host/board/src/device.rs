//! Talking to a board: a serial port, a TCP socket, or an emulator (QEMU, rp2040js) spawned on the spot.
//!
//! All three are just a byte stream in each direction; a reader thread splits
//! the incoming stream into COBS frames (with `shared`'s frame reader) so that
//! every wait has a timeout.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use shared::wire::protocol::{
    decode_frame, encode_frame, DeviceInfo, FrameEvent, FrameReader, Request, Response, MAX_REQUEST_FRAME,
    MAX_RESPONSE_FRAME,
};
use shared::{Prediction, INPUT};

pub use shared::boards::{Board, Emulator, BOARDS};

/// Where the RP2040 emulator lives in the checkout.
pub fn rp2040_emulator_dir() -> Result<PathBuf> {
    Ok(crate::paths::checkout()?.join("tools/rp2040-emu"))
}

/// The board called `name`, or an error that lists them all.
pub fn board(name: &str) -> Result<Board> {
    Board::by_name(name).ok_or_else(|| {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        anyhow!("unknown board {name:?}; boards are: {}", names.join(", "))
    })
}

/// What the host does with a row of the board table: find its build, boot its emulator.
pub trait EmulatedBoard {
    /// Where `crate::firmware::build` leaves this board's image (`cargo xtask firmware`).
    fn default_firmware(&self) -> Result<PathBuf>;
    /// The emulator command line that boots `firmware` with the board's serial link on
    /// stdin/stdout, with `extra` arguments for the emulator (a QEMU plugin, `--counts FILE`).
    fn emulator_command(&self, firmware: &Path, extra: &[String]) -> Result<Command>;
    /// What to install when the emulator cannot start.
    fn emulator_missing(&self) -> String;
}

impl EmulatedBoard for Board {
    fn default_firmware(&self) -> Result<PathBuf> {
        // Not cargo's `target/<triple>/release/firmware`: two boards can share a triple.
        Ok(crate::paths::checkout()?.join("firmware/target/boards").join(self.name).join("firmware.elf"))
    }

    fn emulator_command(&self, firmware: &Path, extra: &[String]) -> Result<Command> {
        match self.emulator {
            Emulator::Qemu { machine, cpu, serial } => {
                let mut cmd = Command::new("qemu-system-arm");
                cmd.args(["-machine", machine, "-cpu", cpu, "-display", "none", "-monitor", "none"]);
                // The machine's earlier serial ports go nowhere; the firmware's is stdio.
                for _ in 0..serial {
                    cmd.args(["-serial", "null"]);
                }
                cmd.args(["-serial", "stdio", "-semihosting-config", "enable=on,target=native"])
                    .args(extra)
                    .arg("-kernel")
                    .arg(firmware);
                Ok(cmd)
            }
            Emulator::Rp2040js => {
                let mut cmd = Command::new("node");
                cmd.arg(rp2040_emulator_dir()?.join("main.mjs")).args(extra).arg(firmware);
                Ok(cmd)
            }
        }
    }

    fn emulator_missing(&self) -> String {
        match self.emulator {
            Emulator::Qemu { .. } => {
                "qemu-system-arm not found; install it (Debian/Ubuntu: sudo apt-get install qemu-system-arm)".into()
            }
            Emulator::Rp2040js => format!(
                "the RP2040 emulator needs Node.js 20 and its packages: install Node (Debian/Ubuntu: sudo apt-get \
                 install nodejs npm), then run `npm ci` in {}",
                rp2040_emulator_dir().unwrap_or_else(|_| "tools/rp2040-emu".into()).display()
            ),
        }
    }
}

/// The board's own build from the checkout, with a warning when its sources
/// have changed since.
fn default_firmware(board: &Board) -> Result<PathBuf> {
    let firmware = board.default_firmware()?;
    if !firmware.exists() {
        bail!(
            "no firmware for {} at {}; build it with `cargo xtask firmware --board {}`",
            board.name,
            firmware.display(),
            board.name
        );
    }
    if let Some(changed) = crate::firmware_image::newer_input(&crate::paths::checkout()?, &firmware) {
        eprintln!(
            "warning: {} changed after the {} firmware was built; rebuild with `cargo xtask firmware --board {}`",
            changed.display(),
            board.name,
            board.name
        );
    }
    Ok(firmware)
}

/// Where the device is.
#[derive(Clone, Debug, PartialEq)]
pub enum Endpoint {
    /// A serial port such as `/dev/ttyACM0` or `COM3`.
    Serial(String),
    /// A TCP socket, e.g. QEMU started with `-serial tcp::4444,server`.
    Tcp(String),
    /// Boot this board's firmware in its emulator (QEMU or rp2040js).
    Emulated(Board),
}

impl Endpoint {
    /// Parses `emu:<board>` (or its older spelling `qemu:<board>`), `tcp:<host:port>` or a serial port path.
    pub fn parse(s: &str) -> Result<Endpoint> {
        if let Some(board) = s.strip_prefix("emu:").or_else(|| s.strip_prefix("qemu:")) {
            Ok(Endpoint::Emulated(self::board(board)?))
        } else if let Some(addr) = s.strip_prefix("tcp:") {
            Ok(Endpoint::Tcp(addr.to_owned()))
        } else if s.is_empty() {
            bail!("empty --device; use a serial port, tcp:HOST:PORT or emu:<board>")
        } else {
            Ok(Endpoint::Serial(s.to_owned()))
        }
    }
}

/// How to open a device.
#[derive(Clone, Debug)]
pub struct Options {
    /// Serial baud rate.
    pub baud: u32,
    /// How long to wait for each response.
    pub timeout: Duration,
    /// Firmware image for `emu:` endpoints; the board's default build if `None`.
    pub firmware: Option<PathBuf>,
    /// Extra emulator arguments for `emu:` endpoints (QEMU's `-plugin ...`, rp2040js's `--counts FILE`).
    pub emulator_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { baud: 115_200, timeout: Duration::from_secs(10), firmware: None, emulator_args: Vec::new() }
    }
}

/// Emulators this process started and has not stopped: a `Device` stops its
/// own when dropped, [`stop_emulators`] all of them when the process is told
/// to end (Ctrl-C, `kill`), where no destructor runs.
static EMULATORS: Mutex<Vec<(u64, Child)>> = Mutex::new(Vec::new());
/// The next emulator's key in [`EMULATORS`].
static NEXT_EMULATOR: AtomicU64 = AtomicU64::new(0);

/// Stops every emulator this process started (for a signal handler: the
/// process is about to exit and its `Device`s will not be dropped).
pub fn stop_emulators() {
    let running = std::mem::take(&mut *EMULATORS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    for (_, mut child) in running {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A connected device.
pub struct Device {
    writer: Box<dyn Write + Send>,
    frames: Receiver<Incoming>,
    /// Its emulator's key in [`EMULATORS`], if it runs in one.
    emulator: Option<u64>,
    stderr: Arc<Mutex<Vec<u8>>>,
    timeout: Duration,
    name: String,
    /// A TCP connection, shut down when the device is dropped: its reader
    /// thread holds a clone, so the peer would not see the end otherwise.
    connection: Option<std::net::TcpStream>,
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(connection) = &self.connection {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
        let Some(key) = self.emulator else { return };
        let mut running = EMULATORS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = running.iter().position(|(k, _)| *k == key) {
            let (_, mut child) = running.swap_remove(at);
            drop(running);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the reader thread hands over.
enum Incoming {
    /// A complete frame, delimiter stripped, ready for `decode_frame`.
    Frame(Vec<u8>),
    /// A frame longer than any response the protocol has; its bytes were dropped.
    Oversized,
    /// The stream ended or failed.
    Ended(std::io::Error),
}

/// Reads `reader` until it ends, splitting it into frames with `shared`'s own
/// frame reader (the firmware's, with the response size as its bound).
fn spawn_frame_reader(mut reader: Box<dyn Read + Send>) -> Receiver<Incoming> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut frames = FrameReader::<MAX_RESPONSE_FRAME>::new();
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.send(Incoming::Ended(std::io::ErrorKind::UnexpectedEof.into()));
                    return;
                }
                Ok(n) => {
                    for &b in &buf[..n] {
                        let incoming = match frames.push(b) {
                            Some(FrameEvent::Frame(frame)) => Incoming::Frame(frame.to_vec()),
                            Some(FrameEvent::Oversized) => Incoming::Oversized,
                            None => continue,
                        };
                        if tx.send(incoming).is_err() {
                            return;
                        }
                    }
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) => {}
                Err(e) => {
                    let _ = tx.send(Incoming::Ended(e));
                    return;
                }
            }
        }
    });
    rx
}

impl Device {
    /// Connects to `endpoint`.
    pub fn open(endpoint: &Endpoint, options: &Options) -> Result<Device> {
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut connection = None;
        let (writer, reader, emulator, name): (Box<dyn Write + Send>, Box<dyn Read + Send>, _, _) = match endpoint {
            Endpoint::Serial(path) => {
                let port = serialport::new(path, options.baud)
                    .timeout(Duration::from_millis(100))
                    .open()
                    .map_err(|e| serial_error(path, e))?;
                let reader = port.try_clone().with_context(|| format!("cannot share serial port {path}"))?;
                (Box::new(port), Box::new(reader), None, path.clone())
            }
            Endpoint::Tcp(addr) => {
                let stream = std::net::TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
                stream.set_nodelay(true)?;
                let reader = stream.try_clone()?;
                connection = Some(stream.try_clone()?);
                (Box::new(stream), Box::new(reader), None, addr.clone())
            }
            Endpoint::Emulated(board) => {
                let firmware = match &options.firmware {
                    Some(explicit) => {
                        if !explicit.exists() {
                            bail!("--firmware {}: no such file", explicit.display());
                        }
                        explicit.clone()
                    }
                    None => default_firmware(board)?,
                };
                crate::firmware_image::check(board, &firmware)?;
                let mut child = board
                    .emulator_command(&firmware, &options.emulator_args)?
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => anyhow!(board.emulator_missing()),
                        _ => anyhow!(e).context(format!("cannot start the emulator for {}", board.name)),
                    })?;
                let stdin = child.stdin.take().context("emulator stdin")?;
                let stdout = child.stdout.take().context("emulator stdout")?;
                let mut err_pipe = child.stderr.take().context("emulator stderr")?;
                let sink = Arc::clone(&stderr);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = err_pipe.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        sink.lock().map(|mut s| s.extend_from_slice(&buf[..n])).ok();
                    }
                });
                let key = NEXT_EMULATOR.fetch_add(1, Ordering::Relaxed);
                EMULATORS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((key, child));
                (Box::new(stdin), Box::new(stdout), Some(key), format!("emu:{}", board.name))
            }
        };
        let frames = spawn_frame_reader(reader);
        let mut device = Device { writer, frames, emulator, stderr, timeout: options.timeout, name, connection };
        // A lone delimiter ends whatever the device may have half-received.
        device.send_raw(&[0])?;
        if matches!(endpoint, Endpoint::Emulated(_)) {
            device.wait_until_listening()?;
        }
        Ok(device)
    }

    /// Pings a freshly started emulator until the firmware answers. Some emulated
    /// UARTs (the STM32's in QEMU) drop what arrives before the firmware has
    /// enabled them, and an emulator starts reading its stdin before the firmware
    /// runs. Every ping that got through is answered, in order, so a `Stats`
    /// request sent after the first answer collects the rest: nothing stale is
    /// left for the caller.
    fn wait_until_listening(&mut self) -> Result<()> {
        const PING_INTERVAL: Duration = Duration::from_millis(200);
        let started = std::time::Instant::now();
        loop {
            self.send(&Request::Info)?;
            match self.frames.recv_timeout(PING_INTERVAL) {
                Ok(Incoming::Frame(_) | Incoming::Oversized) => break,
                Ok(Incoming::Ended(e)) => return Err(anyhow!(e)).with_context(|| self.lost()),
                Err(RecvTimeoutError::Timeout) if started.elapsed() < self.timeout => {}
                Err(RecvTimeoutError::Timeout) => bail!(
                    "{} did not answer within {:.1} s of starting{}",
                    self.name,
                    self.timeout.as_secs_f64(),
                    self.emulator_hint()
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(anyhow!("connection closed")).with_context(|| self.lost())
                }
            }
        }
        self.send(&Request::Stats)?;
        while !matches!(self.receive()?, Response::Stats(_)) {}
        Ok(())
    }

    /// What the emulator printed on stderr so far (panics and faults land there).
    pub fn emulator_output(&self) -> String {
        self.stderr.lock().map(|s| String::from_utf8_lossy(&s).into_owned()).unwrap_or_default()
    }

    /// Writes bytes as they are: for resynchronisation and robustness tests.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).and_then(|()| self.writer.flush()).with_context(|| self.lost())
    }

    /// Sends one request without waiting for its response.
    pub fn send(&mut self, request: &Request) -> Result<()> {
        let mut buf = [0u8; MAX_REQUEST_FRAME];
        let frame = encode_frame(request, &mut buf).context("cannot encode request")?;
        let frame: &[u8] = frame;
        self.send_raw(frame)
    }

    /// Waits for the next response.
    pub fn receive(&mut self) -> Result<Response> {
        match self.frames.recv_timeout(self.timeout) {
            Ok(Incoming::Frame(mut frame)) => decode_frame(&mut frame)
                .map_err(|e| anyhow!("{}: garbled response ({e}); is this a tiny-mnist device?", self.name)),
            Ok(Incoming::Oversized) => bail!(
                "{}: a response longer than any the protocol has ({MAX_RESPONSE_FRAME} bytes); is this a \
                 tiny-mnist device?",
                self.name
            ),
            Ok(Incoming::Ended(e)) => Err(anyhow!(e)).with_context(|| self.lost()),
            Err(RecvTimeoutError::Timeout) => bail!(
                "{} did not answer within {:.1} s; is the firmware running and the baud rate right?{}",
                self.name,
                self.timeout.as_secs_f64(),
                self.emulator_hint()
            ),
            Err(RecvTimeoutError::Disconnected) => Err(anyhow!("connection closed")).with_context(|| self.lost()),
        }
    }

    fn emulator_hint(&self) -> String {
        let out = self.emulator_output();
        if out.trim().is_empty() {
            String::new()
        } else {
            format!("\nemulator said:\n{}", out.trim_end())
        }
    }

    fn lost(&self) -> String {
        format!("lost the connection to {}{}", self.name, self.emulator_hint())
    }

    /// Sends one request and waits for its response.
    pub fn request(&mut self, request: &Request) -> Result<Response> {
        self.send(request)?;
        self.receive()
    }

    /// Asks the device who it is.
    pub fn info(&mut self) -> Result<DeviceInfo> {
        match self.request(&Request::Info)? {
            Response::Info(info) => Ok(info),
            other => bail!("{}: expected device info, got {other:?}", self.name),
        }
    }

    /// Asks the device for its resource use.
    pub fn stats(&mut self) -> Result<shared::wire::protocol::DeviceStats> {
        match self.request(&Request::Stats)? {
            Response::Stats(stats) => Ok(stats),
            other => bail!("{}: expected stats, got {other:?}", self.name),
        }
    }

    /// Classifies images, keeping up to `window` requests in flight so the
    /// link never idles while the device computes. Calls `on_result` in order.
    pub fn classify_all<'a>(
        &mut self,
        images: impl IntoIterator<Item = &'a [u8; INPUT]>,
        window: usize,
        mut on_result: impl FnMut(usize, Prediction) -> Result<()>,
    ) -> Result<()> {
        let mut in_flight = 0usize;
        let mut answered = 0usize;
        for image in images {
            if in_flight >= window.max(1) {
                on_result(answered, self.expect_prediction(answered)?)?;
                answered += 1;
                in_flight -= 1;
            }
            self.send(&Request::Classify(shared::PixelBytes::raw(image)))?;
            in_flight += 1;
        }
        while in_flight > 0 {
            on_result(answered, self.expect_prediction(answered)?)?;
            answered += 1;
            in_flight -= 1;
        }
        Ok(())
    }

    fn expect_prediction(&mut self, index: usize) -> Result<Prediction> {
        match self.receive()? {
            Response::Prediction(p) => Ok(p),
            other => bail!("{}: image {index}: expected a prediction, got {other:?}", self.name),
        }
    }
}

fn serial_error(path: &str, e: serialport::Error) -> anyhow::Error {
    // serialport reports a port held by another program (exclusive flock) as `NoDevice`, so the
    // description is checked before the kind.
    let busy = ["busy", "exclusive lock"].iter().any(|needle| e.description.contains(needle));
    match e.kind() {
        _ if busy => anyhow!("serial port {path} is busy: another program has it open"),
        serialport::ErrorKind::NoDevice => anyhow!("serial port {path} not found (is the board plugged in?)"),
        serialport::ErrorKind::Io(std::io::ErrorKind::NotFound) => {
            anyhow!("serial port {path} not found (is the board plugged in?)")
        }
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => {
            anyhow!("no permission to open {path} (add yourself to the dialout group)")
        }
        _ => anyhow!("cannot open serial port {path}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        assert_eq!(Endpoint::parse("qemu:mps2-an386").unwrap(), Endpoint::Emulated(BOARDS[1]));
        assert_eq!(Endpoint::parse("emu:rp-pico").unwrap(), Endpoint::Emulated(BOARDS[2]));
        assert_eq!(Endpoint::parse("tcp:localhost:4444").unwrap(), Endpoint::Tcp("localhost:4444".into()));
        assert_eq!(Endpoint::parse("/dev/ttyACM0").unwrap(), Endpoint::Serial("/dev/ttyACM0".into()));
        let err = Endpoint::parse("qemu:nope").unwrap_err().to_string();
        assert!(err.contains("lm3s6965evb"), "{err}");
    }

    #[test]
    fn missing_serial_port_is_a_clear_error() {
        let err = Device::open(&Endpoint::Serial("/dev/does-not-exist".into()), &Options::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/dev/does-not-exist") && err.contains("not found"), "{err}");
    }

    #[test]
    fn silent_device_times_out_with_a_message() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let _keep = std::thread::spawn(move || {
            let conn = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
            drop(conn);
        });
        let options = Options { timeout: Duration::from_millis(200), ..Options::default() };
        let mut device = Device::open(&Endpoint::Tcp(addr), &options).unwrap();
        let err = device.info().unwrap_err().to_string();
        assert!(err.contains("did not answer"), "{err}");
    }
}
