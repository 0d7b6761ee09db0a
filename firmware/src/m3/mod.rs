//! First-layer kernels for the Cortex-M3 (`thumbv7m-none-eabi`: no FPU, no
//! DSP extension), for models that read stroke maps, one cell row of maps
//! (112 bytes) at a time. The portable passes in `shared::network` define the
//! results; each kernel's arithmetic is also written in Rust, which the host
//! tests check against the portable pass, and the assembly is checked by the
//! parity test on all 10,000 test images.
#[cfg(any(test, not(model_int8)))]
pub mod f32;
#[cfg(any(test, model_int8))]
pub mod int8;
