//! Stack painting: fill the free stack with a pattern at boot, later find the
//! deepest word that changed. Gives the peak stack use of everything run so far.
use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0xCCCC_CCCC;
/// Left unpainted below the current stack pointer when painting.
const MARGIN: usize = 64;

extern "C" {
    // From cortex-m-rt's link.x: the end of static data and the top of RAM.
    static __sheap: u32;
    static _stack_start: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of the linker symbols are taken, never their values.
    (addr_of!(__sheap) as usize, addr_of!(_stack_start) as usize)
}

/// Paints from the end of static data up to just below the current stack pointer.
/// Call once, first thing in `main`.
pub fn paint() {
    let (bottom, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = bottom;
    while addr + 4 <= sp.saturating_sub(MARGIN) {
        // SAFETY: [bottom, sp - MARGIN) is RAM between the statics and the live
        // stack; nothing else owns it, and writes are word-aligned.
        unsafe { write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

/// Bytes of stack used at the deepest point since [`paint`], and the stack size.
pub fn usage() -> (u32, u32) {
    let (bottom, top) = bounds();
    let mut addr = bottom;
    // SAFETY: reads of word-aligned RAM between the statics and the stack top.
    while addr < top && unsafe { read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    ((top - addr) as u32, (top - bottom) as u32)
}
