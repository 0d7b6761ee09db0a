//! What the first-layer kernels share: a stroke-map model's first layer summed
//! one cell row (112 pixels) at a time by a kernel, while `shared` makes the
//! maps (compiled there: `StrokeMaps::for_each_cell_row_dyn`).
use shared::input::strokes::{StrokeMaps, CELL_ROW};

/// `start`, then `kernel(&mut sums, pixels, weights)` for each cell row of
/// `maps` with that row's weights (`rows[r]`): the first layer's sums.
pub fn first_layer<S, W>(
    start: S,
    maps: StrokeMaps<'_>,
    rows: &[W],
    mut kernel: impl FnMut(&mut S, &[u8; CELL_ROW], &W),
) -> S {
    let mut sums = start;
    maps.for_each_cell_row_dyn(&mut |r, pixels| {
        if let Some(weights) = rows.get(r) {
            kernel(&mut sums, pixels, weights);
        }
    });
    sums
}

/// The host tests' check of an f32 first-layer kernel's arithmetic: on random
/// weights and images of every density, summed cell row by cell row, the
/// portable pass's bits.
#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "tests: a panic is a failure")]
pub fn assert_f32_kernel_is_portable(
    first_layer: fn(&mut [f32; shared::dims::HIDDEN], &[u8; CELL_ROW], &[[f32; shared::dims::HIDDEN]; CELL_ROW]),
    seed: u64,
) {
    let mut next = xorshift(seed);
    for case in 0..100 {
        let mut w = shared::Weights::ZERO;
        for p in w.parameters_mut() {
            *p = f32::from_bits(0x3c00_0000 + (next() % 0x0200_0000) as u32) * if next() & 1 == 0 { 1.0 } else { -1.0 };
        }
        let density = 1 + case % 7;
        let image: [u8; shared::dims::INPUT] =
            core::array::from_fn(|_| if next().is_multiple_of(density) { next() as u8 } else { 0 });
        let expected = shared::network::hidden_forward_pixels(&w.w1, &w.b1, &image);
        let mut z = w.b1;
        for (pixels, rows) in image.as_chunks::<CELL_ROW>().0.iter().zip(w.w1.as_chunks::<CELL_ROW>().0) {
            first_layer(&mut z, pixels, rows);
        }
        assert_eq!(z.map(f32::to_bits), expected.map(f32::to_bits), "case {case}");
    }
}

/// A small deterministic generator for the kernels' host tests.
#[cfg(test)]
pub fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
