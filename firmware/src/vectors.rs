//! The device-specific part of the vector table, for the emulated boards.
//!
//! No interrupt is ever taken (the UARTs are polled; their receive interrupt
//! only wakes the core from `wfi`, with PRIMASK set), so the table after the
//! 16 core exceptions holds one entry — cortex-m-rt's linker script wants at
//! least one — instead of cortex-m-rt's generic 240: 956 bytes less flash.

extern "C" {
    fn DefaultHandler();
}

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
#[used]
static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];
