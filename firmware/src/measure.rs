//! Marker functions around each inference, for exact instruction counts.
//!
//! `tools/insn-count` (a QEMU TCG plugin) counts the instructions executed
//! from entering [`inference_start`] to entering [`inference_end`], and of
//! those, the ones from entering [`preprocess_start`] to entering
//! [`preprocess_end`] (a model's preprocessing, several pieces). They cost
//! a few instructions per inference and stay in every build, so the measured
//! image is the shipped one. Distinct bodies keep the linker from merging them.

/// Called right before an inference.
#[no_mangle]
#[inline(never)]
pub extern "C" fn inference_start() {
    #[cfg(target_arch = "arm")]
    cortex_m::asm::nop();
}

/// Called right after an inference.
#[no_mangle]
#[inline(never)]
pub extern "C" fn inference_end() {
    #[cfg(target_arch = "arm")]
    {
        cortex_m::asm::nop();
        cortex_m::asm::nop();
    }
}

/// Called right before a model's input preprocessing.
#[no_mangle]
#[inline(never)]
pub extern "C" fn preprocess_start() {
    #[cfg(target_arch = "arm")]
    {
        cortex_m::asm::nop();
        cortex_m::asm::nop();
        cortex_m::asm::nop();
    }
}

/// Called right after a model's input preprocessing.
#[no_mangle]
#[inline(never)]
pub extern "C" fn preprocess_end() {
    #[cfg(target_arch = "arm")]
    {
        cortex_m::asm::nop();
        cortex_m::asm::nop();
        cortex_m::asm::nop();
        cortex_m::asm::nop();
    }
}

/// Around each piece of a model's preprocessing, so that it is counted apart
/// from the network. The pieces run inside an inference's markers,
/// interleaved with the network's work.
pub const PREPROCESSING_MARKERS: shared::input::deskew::Markers =
    shared::input::deskew::Markers { start: || preprocess_start(), end: || preprocess_end() };

/// Runs `f` between the markers.
#[inline(always)]
pub fn measured<T>(f: impl FnOnce() -> T) -> T {
    inference_start();
    let out = f();
    inference_end();
    out
}
