//! First-layer kernels for the Cortex-M4F boards (`thumbv7em-none-eabihf`:
//! the DSP extension and a single-precision FPU), for models that read stroke
//! maps. Each takes one cell row of maps (112 bytes) at a time and keeps its
//! ten sums in registers across it; the maps are made by `shared`, compiled
//! there ([`StrokeMaps::for_each_cell_row_dyn`]). The portable passes in
//! `shared::network` define the results: the int8 sums are wrapping integer
//! additions (any order gives the same bits), the f32 ones are added in the
//! same order with the same two roundings. Each kernel's arithmetic is also
//! written in Rust, which the host tests check against the portable pass; the
//! assembly is checked by the parity test on all 10,000 test images.
//!
//! [`StrokeMaps::for_each_cell_row_dyn`]: shared::input::strokes::StrokeMaps::for_each_cell_row_dyn
#[cfg(any(test, not(model_int8)))]
pub mod f32;
#[cfg(any(test, model_int8))]
pub mod int8;
