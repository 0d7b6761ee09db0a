//! The board this build runs on, chosen by `build.rs` from the target.
#[cfg(board = "lm3s6965evb")]
mod lm3s6965evb;
#[cfg(board = "lm3s6965evb")]
pub use lm3s6965evb::Uart;

#[cfg(board = "mps2-an386")]
mod mps2_an386;
#[cfg(board = "mps2-an386")]
pub use mps2_an386::Uart;

#[cfg(board = "rp-pico")]
mod rp_pico;
#[cfg(board = "rp-pico")]
pub use rp_pico::Uart;

/// The board's name as reported by `Info`.
pub const NAME: &str = env!("BOARD_NAME");

/// One memory-mapped 32-bit register (the emulated boards' drivers).
#[cfg(any(board = "lm3s6965evb", board = "mps2-an386"))]
#[derive(Clone, Copy)]
struct Register(usize);

#[cfg(any(board = "lm3s6965evb", board = "mps2-an386"))]
impl Register {
    fn read(self) -> u32 {
        // SAFETY: `Register`s are only built from the documented peripheral
        // addresses below, which are valid, aligned and side-effect-safe to read.
        unsafe { core::ptr::read_volatile(self.0 as *const u32) }
    }

    fn write(self, value: u32) {
        // SAFETY: as for `read`; the UART registers accept any 32-bit write.
        unsafe { core::ptr::write_volatile(self.0 as *mut u32, value) }
    }
}
