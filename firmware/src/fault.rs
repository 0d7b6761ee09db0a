//! Panics and hard faults end the QEMU run with a failure code instead of
//! hanging it (semihosting `exit` passes the code through). On the Pico,
//! which has no debugger attached, they reset the chip instead.
//!
//! Messages are written piecewise with `write_str` and a hand-rolled hex printer,
//! never through `core::fmt`, which would add several KB of flash.
use cortex_m_rt::{exception, ExceptionFrame};

/// Exit code of a panic.
pub const PANIC_EXIT_CODE: i32 = 101;
/// Exit code of a hard fault.
pub const HARD_FAULT_EXIT_CODE: i32 = 102;

#[cfg(board = "rp-pico")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

#[cfg(board = "rp-pico")]
#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

#[cfg(not(board = "rp-pico"))]
fn say(s: &str) {
    say_bytes(s.as_bytes());
}

#[cfg(not(board = "rp-pico"))]
fn say_bytes(bytes: &[u8]) {
    if let Ok(mut err) = semihosting::io::stderr() {
        let _ = semihosting::io::Write::write_all(&mut err, bytes);
    }
}

/// Writes `n` in hexadecimal: eight nibbles, no division (a decimal printer costs 400 bytes more).
#[cfg(not(board = "rp-pico"))]
fn say_hex(n: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = *b"0x00000000";
    for (i, slot) in text.iter_mut().skip(2).enumerate() {
        let nibble = (n >> (28 - 4 * i)) & 0xF;
        *slot = DIGITS.get(nibble as usize).copied().unwrap_or(b'?');
    }
    say_bytes(&text);
}

#[cfg(not(board = "rp-pico"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say("firmware panicked");
    if let Some(location) = info.location() {
        say(" at ");
        say(location.file());
        say(" line ");
        say_hex(location.line());
    }
    say("\n");
    semihosting::process::exit(PANIC_EXIT_CODE)
}

#[cfg(not(board = "rp-pico"))]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say("firmware hard fault at pc ");
    say_hex(frame.pc());
    say("\n");
    semihosting::process::exit(HARD_FAULT_EXIT_CODE)
}
