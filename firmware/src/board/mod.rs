//! The board this build runs on: `build.rs` finds its row in
//! `shared::boards::BOARDS` from the board's cargo feature and includes its
//! driver, `src/board/<name>.rs`, which provides [`Link`]: the serial link
//! to the host, as `embedded_io::Read + Write`.
include!(concat!(env!("OUT_DIR"), "/board.rs"));

/// The board's name as reported by `Info`.
pub const NAME: &str = env!("BOARD_NAME");

/// One memory-mapped 32-bit register (the polled UART drivers, the NVIC).
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
    /// The UART's receive interrupt: its number in the NVIC. It is never taken (PRIMASK stays
    /// set); it only wakes the core from `wfi` when a byte arrives.
    const RX_IRQ: u32;
    /// Configures the UART (clocks, pins, baud rate, enable, receive interrupt).
    fn init() -> Self;
    /// Lowers the receive interrupt before the core sleeps, for UARTs that latch it until
    /// software clears it; the others lower it when the byte is read.
    fn clear_rx_interrupt(&self) {}
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
        // Interrupts stay masked: the receive interrupt is enabled in the NVIC only so that
        // `wfi` wakes on it (a pending enabled interrupt ends `wfi` even under PRIMASK).
        cortex_m::interrupt::disable();
        nvic_register(NVIC_ISER, U::RX_IRQ).write(1 << (U::RX_IRQ % 32));
        Some(Polled(U::init()))
    }

    /// Sleeps until a byte arrives. An emulator's core then stops instead of spinning on the
    /// status register, which leaves the host's CPU to the emulator's I/O (and to other
    /// emulators: CI runs eight at once); a real chip draws less current.
    fn wait_for_byte(&self) -> u8 {
        loop {
            if let Some(byte) = self.0.receive() {
                return byte;
            }
            self.0.clear_rx_interrupt();
            nvic_register(NVIC_ICPR, U::RX_IRQ).write(1 << (U::RX_IRQ % 32));
            // A byte that came before the line was cleared is seen here; one that comes after
            // pends the interrupt again, so `wfi` returns at once.
            if let Some(byte) = self.0.receive() {
                return byte;
            }
            cortex_m::asm::wfi();
        }
    }
}

/// The NVIC's interrupt set-enable and clear-pending registers (one bit per interrupt).
#[cfg(feature = "mmio-uart")]
const NVIC_ISER: usize = 0xE000_E100;
#[cfg(feature = "mmio-uart")]
const NVIC_ICPR: usize = 0xE000_E280;

/// The word of an NVIC bit array (`base`) that holds interrupt `irq`.
#[cfg(feature = "mmio-uart")]
fn nvic_register(base: usize, irq: u32) -> Register {
    Register(base + 4 * (irq / 32) as usize)
}

#[cfg(feature = "mmio-uart")]
impl<U> embedded_io::ErrorType for Polled<U> {
    type Error = core::convert::Infallible;
}

#[cfg(feature = "mmio-uart")]
impl<U: PolledUart> embedded_io::Read for Polled<U> {
    /// Sleeps until the first byte, then takes whatever else is already there.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let mut n = 0;
        for slot in buf.iter_mut() {
            *slot = match self.0.receive() {
                Some(byte) => byte,
                None if n > 0 => break,
                None => self.wait_for_byte(),
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
