//! Panics and hard faults end the QEMU run with a failure code instead of
//! hanging it (semihosting `exit` passes the code through).
use cortex_m_rt::{exception, ExceptionFrame};

/// Exit code of a panic.
pub const PANIC_EXIT_CODE: i32 = 101;
/// Exit code of a hard fault.
pub const HARD_FAULT_EXIT_CODE: i32 = 102;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    semihosting::eprintln!("firmware panicked: {info}");
    semihosting::process::exit(PANIC_EXIT_CODE)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    semihosting::eprintln!("firmware hard fault at pc {:#010x}", frame.pc());
    semihosting::process::exit(HARD_FAULT_EXIT_CODE)
}
