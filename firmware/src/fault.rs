//! Panics and hard faults. Under an emulator with semihosting (the `semihosting`
//! feature, on for emulated QEMU builds) they end the run with a failure code
//! and a message instead of hanging it. Without it — a real board, with no
//! debugger to answer a semihosting call — they reset the chip. (rp2040js
//! recognises the handlers by their symbols and ends the run itself.)
//!
//! Messages are written piecewise with `write_str` and a hand-rolled hex printer,
//! never through `core::fmt`, which would add several KB of flash.
use cortex_m_rt::{exception, ExceptionFrame};

/// Exit code of a panic.
pub const PANIC_EXIT_CODE: i32 = 101;
/// Exit code of a hard fault.
pub const HARD_FAULT_EXIT_CODE: i32 = 102;

#[cfg(not(feature = "semihosting"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

#[cfg(not(feature = "semihosting"))]
#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    cortex_m::peripheral::SCB::sys_reset()
}

#[cfg(feature = "semihosting")]
fn say(s: &str) {
    say_bytes(s.as_bytes());
}

#[cfg(feature = "semihosting")]
fn say_bytes(bytes: &[u8]) {
    if let Ok(mut err) = semihosting::io::stderr() {
        let _ = semihosting::io::Write::write_all(&mut err, bytes);
    }
}

/// Writes `n` in hexadecimal: eight nibbles, no division (a decimal printer costs 400 bytes more).
#[cfg(feature = "semihosting")]
fn say_hex(n: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = *b"0x00000000";
    for (i, slot) in text.iter_mut().skip(2).enumerate() {
        let nibble = (n >> (28 - 4 * i)) & 0xF;
        *slot = DIGITS.get(nibble as usize).copied().unwrap_or(b'?');
    }
    say_bytes(&text);
}

#[cfg(feature = "semihosting")]
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

#[cfg(feature = "semihosting")]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say("firmware hard fault at pc ");
    say_hex(frame.pc());
    say("\n");
    semihosting::process::exit(HARD_FAULT_EXIT_CODE)
}
