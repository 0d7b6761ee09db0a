//! The part of the `tiny-mnist` CLI that other crates use: how the drawing
//! pad answers a request, kept apart from the server so that the fuzz target
//! for the pad's requests runs exactly the code `tiny-mnist serve` runs.
pub mod pad;
