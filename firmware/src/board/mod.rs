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

/// Hands out the link once: a second `take` gets `None`, as with a PAC's peripherals.
#[cfg(feature = "mmio-uart")]
fn first_take() -> bool {
    use core::sync::atomic::{AtomicBool, Ordering};
    static TAKEN: AtomicBool = AtomicBool::new(false);
    !TAKEN.swap(true, Ordering::Relaxed)
}
