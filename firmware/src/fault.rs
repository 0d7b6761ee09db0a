//! Panics and hard faults end the QEMU run with a failure code instead of
//! hanging it (semihosting `exit` passes the code through). On the Pico,
//! which has no debugger attached, they reset the chip instead.
//!
//! Messages are written piecewise with `write_str` and a hand-rolled decimal,
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
    if let Ok(mut err) = semihosting::io::stderr() {
        let _ = semihosting::io::Write::write_all(&mut err, s.as_bytes());
    }
}

#[cfg(not(board = "rp-pico"))]
fn say_number(mut n: u32, radix: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    loop {
        at -= 1;
        if let (Some(slot), Some(c)) = (digits.get_mut(at), char::from_digit(n % radix, radix)) {
            *slot = c as u8;
        }
        n /= radix;
        if n == 0 || at == 0 {
            break;
        }
    }
    say(core::str::from_utf8(digits.get(at..).unwrap_or_default()).unwrap_or("?"));
}

#[cfg(not(board = "rp-pico"))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    say("firmware panicked");
    if let Some(location) = info.location() {
        say(" at ");
        say(location.file());
        say(":");
        say_number(location.line(), 10);
    }
    say("\n");
    semihosting::process::exit(PANIC_EXIT_CODE)
}

#[cfg(not(board = "rp-pico"))]
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    say("firmware hard fault at pc 0x");
    say_number(frame.pc(), 16);
    say("\n");
    semihosting::process::exit(HARD_FAULT_EXIT_CODE)
}
