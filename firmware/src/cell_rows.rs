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
