//! The board this build runs on: `build.rs` finds its row in
//! `shared::boards::BOARDS` from the board's cargo feature and includes its
//! driver, `src/board/<name>.rs`, which provides [`Link`]: the serial link
//! to the host, as `embedded_io::Read + Write`.
include!(concat!(env!("OUT_DIR"), "/board.rs"));

/// The board's name as reported by `Info`.
pub const NAME: &str = env!("BOARD_NAME");

/// One memory-mapped 32-bit register (the polled UART drivers).
#[cfg(feature = "mmio-uart")]
#[derive(Clone, Copy)]
struct Register(usize);

#[cfg(feature = "mmio-uart")]
impl Register {
    fn read(self) -> u32 {
        // SAFETY: `Register`s are only built from the documented peripheral
        // addresses in the drivers, which are valid, aligned and side-effect-safe to read.
        unsafe { core::ptr::read_volatile(self.0 as *const u32) }
    }

    fn write(self, value: u32) {
        // SAFETY: as for `read`; the drivers write only values their registers accept.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, value) }
    }

    /// Sets `bits`, leaving the others as they are.
    #[allow(dead_code, reason = "only the drivers that share registers with other peripherals need it")]
    fn set_bits(self, bits: u32) {
        self.write(self.read() | bits);
    }
}

/// What a polled memory-mapped UART driver provides; [`Polled`] turns it into a link.
#[cfg(feature = "mmio-uart")]
pub trait PolledUart: Sized {
    /// Configures the UART (clocks, pins, baud rate, enable).
    fn init() -> Self;
    /// The next received byte, if one is waiting. A byte damaged on the line (framing,
    /// overrun) is returned all the same: the frame's COBS and postcard checks reject it.
    fn receive(&self) -> Option<u8>;
    /// Whether the transmitter can take a byte now.
    fn can_send(&self) -> bool;
    /// Hands a byte to the transmitter (only after `can_send`).
    fn send(&self, byte: u8);
}

/// A polled UART as an `embedded-io` link, handed out once (a second `take`
/// gets `None`, as with a PAC's peripherals).
#[cfg(feature = "mmio-uart")]
pub struct Polled<U>(U);

#[cfg(feature = "mmio-uart")]
impl<U: PolledUart> Polled<U> {
    /// Configures the UART; `None` if it was taken before.
    pub fn take() -> Option<Self> {
        use core::sync::atomic::{AtomicBool, Ordering};
        static TAKEN: AtomicBool = AtomicBool::new(false);
        if TAKEN.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some(Polled(U::init()))
    }
}

#[cfg(feature = "mmio-uart")]
impl<U> embedded_io::ErrorType for Polled<U> {
    type Error = core::convert::Infallible;
}

#[cfg(feature = "mmio-uart")]
impl<U: PolledUart> embedded_io::Read for Polled<U> {
    /// Blocks for the first byte, then takes whatever else is already there.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            *slot = match self.0.receive() {
                Some(byte) => byte,
                None if n > 0 => break,
                None => loop {
                    if let Some(byte) = self.0.receive() {
                        break byte;
                    }
                },
            };
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(feature = "mmio-uart")]
impl<U: PolledUart> embedded_io::Write for Polled<U> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        for &byte in buf {
            while !self.0.can_send() {}
            self.0.send(byte);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
