//! The device-specific part of the vector table, for the emulated boards.
//!
//! Nothing here uses an interrupt (the UARTs are polled), so the table after
//! the 16 core exceptions holds one entry — cortex-m-rt's linker script wants
//! at least one — instead of cortex-m-rt's generic 240: 956 bytes less flash.
//! No interrupt is ever enabled, so the entry is never taken; if it were,
//! cortex-m-rt's `DefaultHandler` would run.

extern "C" {
    fn DefaultHandler();
}

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];
